// Subscribe form: the discount off the list price as the price is typed, and whether it needs the
// manager's approval (the project's threshold). The server decides again on submit; this only informs.
(function () {
  var out = document.getElementById("discount-live");
  var price = document.getElementById("id_price");
  if (!out || !price) return;
  var list = parseFloat(out.dataset.listPrice);
  var threshold = parseFloat(out.dataset.threshold);
  function show() {
    var value = parseFloat(String(price.value).replace(/[,，\s]/g, ""));
    out.classList.remove("text-danger", "text-success", "text-secondary");
    if (!(value > 0) || !(list > 0)) {
      out.textContent = "";
      return;
    }
    var pct = (1 - value / list) * 100;
    var text;
    if (pct < 0) {
      text = out.dataset.textAbove;
      out.classList.add("text-secondary");
    } else if (pct < 0.005) {
      text = out.dataset.textNone;
      out.classList.add("text-secondary");
    } else if (pct > threshold) {
      text = out.dataset.textOver.replace("{threshold}", String(threshold));
      out.classList.add("text-danger");
    } else {
      text = out.dataset.textOk;
      out.classList.add("text-success");
    }
    out.textContent = text.replace("{pct}", pct.toFixed(2));
  }
  price.addEventListener("input", show);
  show();
})();
