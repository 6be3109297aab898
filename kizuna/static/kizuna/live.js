// Live inbox: listen to the workspace's event stream and refresh the rows it names.
(function () {
  const list = document.getElementById("cases");
  const state = document.getElementById("live-state");
  if (!list || !window.EventSource) return;
  const rowUrl = (id) => list.dataset.row.replace(/\/0\/row\/$/, "/" + id + "/row/");
  const tab = list.dataset.tab;
  const me = list.dataset.user;

  function belongs(li) {
    const s = li.dataset.status, noise = li.querySelector(".intent-noise") !== null;
    const mine = li.dataset.assignee === me;
    switch (tab) {
      case "todo": return (s === "new" || s === "open") && !noise;
      case "mine": return s !== "closed" && mine;
      case "waiting": return s === "waiting";
      case "noise": return (s === "new" || s === "open") && noise;
      case "closed": return s === "closed";
      default: return true;
    }
  }

  async function refresh(caseId) {
    const resp = await fetch(rowUrl(caseId), { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" });
    if (!resp.ok) return;
    const tpl = document.createElement("template");
    tpl.innerHTML = (await resp.text()).trim();
    const li = tpl.content.firstElementChild;
    const old = document.getElementById("case-" + caseId);
    if (old) old.remove();
    if (!belongs(li)) return;
    const empty = list.querySelector(".empty");
    if (empty) empty.remove();
    list.prepend(li);
  }

  const source = new EventSource(list.dataset.stream);
  source.onopen = () => { state.textContent = state.dataset.on; state.classList.add("on"); };
  source.onerror = () => { state.textContent = state.dataset.off; state.classList.remove("on"); };
  source.addEventListener("case", (ev) => {
    const data = JSON.parse(ev.data);
    if (data.case) refresh(data.case);
  });
})();
