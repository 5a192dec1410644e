"""One queue per team (分团队排队, product.md §3).

A *team* here is a company's sales staff on the project: the developer's own sales team (甲方) and each
agency's team (乙方). It is the consultant's `company`, fixed in `RotationEntry.team_key` when they
sign in for the day; `accounts.Team` (销售一组 …) groups people inside a company for managers and is
not a rotation team. Consultants without a company form one team of their own (未分组).

In a project with team queues (`ProjectSettings.rotation_mode = "teams"`) every walk-in the rotation
receives first gets a team by the project's rule (`queues.team_choose`), then the first waiting
consultant of that team's queue. Lost turns (轮空) and make-up turns (补位) move a consultant within
the day's order, so within their team. The choice is stored in the attribution's inputs.
"""
