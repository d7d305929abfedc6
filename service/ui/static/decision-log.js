/* Evaluation page: the decisions recorded (GET /v1/decisions, /v1/decisions/stats), filtered and paged, each
   withdrawable (DELETE /v1/decisions/{id}); the CSV / XLSX of what the filters show. People could record and undo a
   decision only where they made it, and see the acceptance rate only through the API (a planner's walkthrough). */
(function () {
  "use strict";
  var PA = window.PA;
  var el = PA.el;
  var PAGE = 50;
  var SOURCES = { planner: "หน้าวางแผน", reviewer: "ผู้ตรวจ", evaluator: "ทีมประเมินผล", declared: "แบบฟอร์มโครงการ", imported: "นำเข้าไฟล์" };
  var state = { offset: 0, total: 0, writing: false, names: {} };

  function $(id) { return document.getElementById(id); }

  function filters() {
    return { catalog: $("decisions-catalog").value || null, level: $("decisions-level").value || null,
             source: $("decisions-source").value || null, who: $("decisions-who").value.trim() || null,
             q: $("decisions-q").value.trim() || null, node_id: $("decisions-node").value.trim() || null,
             active: $("decisions-active").checked ? "true" : null };
  }

  function when(seconds) {
    var date = new Date(seconds * 1000);
    return date.toLocaleString("th-TH", { dateStyle: "medium", timeStyle: "short" });
  }

  function nodeWords(catalog, id) {
    var name = (state.names[catalog] || {})[id];
    return name ? id + " " + name : id;
  }

  function status(d) {
    if (d.withdraws) return "การยกเลิกรายการที่ " + d.withdraws;
    if (d.withdrawn_by) return "ยกเลิกแล้ว (รายการที่ " + d.withdrawn_by + ")";
    if (d.in_catalog === false) return "หัวข้อไม่อยู่ในแผนแล้ว ไม่นับ";
    if (d.overridden) return "ถูกแทนด้วยการตัดสินใหม่กว่าอีกระดับ ไม่นับ";
    return $("decisions-active").checked ? "มีผล" : "";
  }

  function names(catalog) {
    if (!catalog || state.names[catalog]) return Promise.resolve();
    return window.PAD.nodes(catalog).then(function (nodes) {
      var found = {};
      nodes.forEach(function (n) { found[n.id] = n.name; });
      state.names[catalog] = found;
      var select = $("decisions-level");
      if (select.dataset.catalog !== catalog) {  // the catalog's own levels
        select.dataset.catalog = catalog;
        var keep = select.value;
        while (select.options.length > 1) select.remove(1);
        nodes.map(function (n) { return n.level; }).filter(function (lv, i, all) { return all.indexOf(lv) === i; }).forEach(function (lv) {
          select.appendChild(el("option", { value: lv, text: PA.levelName(lv), selected: lv === keep }));
        });
      }
    }).catch(function () { state.names[catalog] = {}; });  // a removed catalog: ids only
  }

  function summary(stats) {
    var rate = stats.acceptance_rate, active = stats.active_acceptance_rate;
    var parts = ["การตัดสินใจ " + PA.formatNumber(stats.decisions) + " รายการ", "มีผลอยู่ " + PA.formatNumber(stats.active)];
    if (stats.withdrawn) parts.push("ยกเลิกแล้ว " + PA.formatNumber(stats.withdrawn));
    if (stats.overridden) parts.push("ถูกแทนอีกระดับ " + PA.formatNumber(stats.overridden));
    if (stats.not_counting) parts.push("หัวข้อไม่อยู่ในแผนแล้ว " + PA.formatNumber(stats.not_counting));
    if (rate !== null && rate !== undefined) parts.push("ยอมรับข้อเสนอของระบบ " + PA.percent(rate) + " ของ " + PA.formatNumber(stats.with_suggestion) + " ครั้งที่มีข้อเสนอ");
    if (active !== null && active !== undefined) parts.push("ในที่มีผลอยู่ " + PA.percent(active));
    return parts.join(" · ");
  }

  function load(offset) {
    var params = filters();
    state.offset = offset || 0;
    PA.setStatus($("decisions-status"), "กำลังโหลด…", "busy");
    var catalog = params.catalog;
    return Promise.all([
      PA.api("/v1/decisions" + PA.query(Object.assign({ offset: state.offset || null, limit: PAGE }, params))),
      PA.api("/v1/decisions/stats" + PA.query({ catalog: catalog, source: params.source, who: params.who })),
      names(catalog)
    ]).then(function (answers) {
      var page = answers[0];
      state.total = page.total;
      $("decisions-summary").textContent = summary(answers[1]);
      draw(page.decisions || []);
      drawPager();
      PA.setStatus($("decisions-status"), page.total ? "แสดงรายการที่ " + PA.formatNumber(state.offset + 1) + "–" +
        PA.formatNumber(state.offset + (page.decisions || []).length) + " จาก " + PA.formatNumber(page.total) + " (ใหม่สุดก่อน)" : "ไม่มีการตัดสินใจที่ตรงกับตัวกรอง", "");
    }).catch(function (err) { PA.setStatus($("decisions-status"), err.message, "error"); });
  }

  function draw(decisions) {
    var body = PA.clear($("decisions-table").tBodies[0]);
    decisions.forEach(function (d) {
      var undoable = !d.withdraws && !d.withdrawn_by;
      body.appendChild(el("tr", { class: d.withdraws || d.withdrawn_by ? "muted" : "", dataset: { id: d.id } }, [
        el("td", { class: "nowrap small", text: when(d.created) }),
        el("td", { class: "text", text: d.text }),
        el("td", { class: "nowrap", text: PA.levelName(d.level) }),
        el("td", null, d.withdraws ? "–" : el("span", null, [el("code", { text: d.node_id }), " ", nodeWords(d.catalog, d.node_id).slice(d.node_id.length)])),
        el("td", { class: "small" }, d.suggested ? [el("code", { text: d.suggested }), d.accepted ? " (ยอมรับ)" : " (แก้ไข)"] : "–"),
        el("td", { class: "small", text: (SOURCES[d.source] || d.source) + " · " + PA.whoThai(d.who) }),
        el("td", { class: "small", text: status(d) }),
        el("td", null, undoable ? el("button", { type: "button", class: "btn btn-small decision-withdraw", text: "ยกเลิก",
          "aria-label": "ยกเลิกการตัดสินใจรายการที่ " + d.id, title: "ยกเลิกการตัดสินใจที่บันทึกผิด ระบบจะไม่นับและไม่เรียนรู้จากรายการนี้ (ประวัติยังเก็บไว้)",
          onclick: function () { withdraw(d); } }) : null)
      ]));
    });
    if (!decisions.length) body.appendChild(el("tr", null, el("td", { colspan: 8, class: "muted", text: "ไม่มีรายการ" })));
  }

  function drawPager() {
    var pager = PA.clear($("decisions-pager"));
    pager.hidden = state.total <= PAGE;
    if (pager.hidden) return;
    pager.appendChild(el("button", { type: "button", class: "btn btn-small", text: "‹ ก่อนหน้า", disabled: state.offset === 0,
                                     onclick: function () { load(Math.max(0, state.offset - PAGE)); } }));
    pager.appendChild(el("span", { class: "muted small", text: " หน้า " + (Math.floor(state.offset / PAGE) + 1) + " จาก " + Math.ceil(state.total / PAGE) + " " }));
    pager.appendChild(el("button", { type: "button", class: "btn btn-small", text: "ถัดไป ›", disabled: state.offset + PAGE >= state.total,
                                     onclick: function () { load(state.offset + PAGE); } }));
  }

  function withdraw(d) {
    if (state.writing) return;  // one at a time
    state.writing = true;
    PA.setStatus($("decisions-status"), "กำลังยกเลิก…", "busy");
    PA.api("/v1/decisions/" + encodeURIComponent(d.id) + "?source=reviewer", { method: "DELETE" })
      .then(function (answer) {
        var standing = (answer.still_active || []).map(function (s) { return s.node_id + " (ระดับ" + PA.levelName(s.level) + ")"; });
        return load(state.offset).then(function () {
          PA.setStatus($("decisions-status"), "ยกเลิกรายการที่ " + d.id + " แล้ว" + (answer.already ? " (ยกเลิกไว้ก่อนแล้ว)" : "") +
            (standing.length ? " · ข้อความนี้ตอนนี้ใช้: " + standing.join(", ") : " · ข้อความนี้ไม่มีหมวดที่ตัดสินไว้แล้ว"), "ok");
        });
      })
      .catch(function (err) { PA.setStatus($("decisions-status"), err.message, "error"); })
      .then(function () { state.writing = false; });
  }

  function download(format) {
    var params = filters();
    PA.download("/v1/decisions" + PA.query(Object.assign({ format: format }, params)), "decisions." + format)
      .catch(function (err) { PA.setStatus($("decisions-status"), err.message, "error"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = $("decisions-source");
    Object.keys(SOURCES).forEach(function (s) { select.appendChild(el("option", { value: s, text: SOURCES[s] })); });
    $("decisions-filter").addEventListener("submit", function (event) { event.preventDefault(); load(0); });
    ["decisions-catalog", "decisions-level", "decisions-source", "decisions-active"].forEach(function (id) {
      $(id).addEventListener("change", function () { load(0); });
    });
    $("decisions-csv").addEventListener("click", function () { download("csv"); });
    $("decisions-xlsx").addEventListener("click", function () { download("xlsx"); });
    // read when opened: not for people who only upload a file; opened by a link to #decisions
    var box = $("decisions-box");
    box.addEventListener("toggle", function () {
      if (box.open && !state.loaded) { state.loaded = true; PA.loadCatalogs().then(function () { load(0); }); }
    });
    if (window.location.hash === "#decisions") { box.open = true; box.scrollIntoView(); }
  });
})();
