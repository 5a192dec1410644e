// Live sales-control board: after each htmx refresh, flash the cells whose status changed.
(function () {
  function snapshot() {
    var seen = {};
    document.querySelectorAll("#board-live .cell[data-status]").forEach(function (cell) {
      seen[cell.id] = cell.dataset.status;
    });
    return seen;
  }
  var before = snapshot();
  document.body.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("#board-live .cell[data-status]").forEach(function (cell) {
      if (before[cell.id] && before[cell.id] !== cell.dataset.status) {
        cell.classList.add("flash");
      }
    });
    before = snapshot();
  });
})();
