/* Evaluation page: the decisions recorded (GET /v1/decisions, /v1/decisions/stats), filtered and paged, each
   withdrawable (DELETE /v1/decisions/{id}); the CSV / XLSX of what the list shows. People could record and undo a
   decision only where they made it, and see the acceptance rate only through the API (a planner's walkthrough). */
(function () {
  "use strict";
  var PA = window.PA;
  var el = PA.el;
  var PAGE = 50;
  var SHOWN_CHARS = 300;  // of a text in the table (a text may hold 20,000); the whole text in its title
  var LOCAL_WORDS = /^(ผู้ใช้ในหน่วยงาน.*|ไม่ระบุชื่อ)$/;  // how the table says "local": typed back as the filter, it found nothing
  // applied: the filters of the list shown (downloads and paging use them, not inputs edited since: a blind review)
  var state = { offset: 0, total: 0, writing: false, loading: false, loaded: false, nodes: {}, applied: null };
  var requests = 0;  // an answer to an older request is dropped (a slower answer replaced a newer list: a blind review)

  function $(id) { return document.getElementById(id); }

  function filters() {
    var who = $("decisions-who").value.trim();
    return { catalog: $("decisions-catalog").value || null, level: $("decisions-level").value || null,
             source: $("decisions-source").value || null, who: LOCAL_WORDS.test(who) ? "local" : who || null,
             q: $("decisions-q").value.trim() || null, node_id: $("decisions-node").value.trim() || null,
             active: $("decisions-active").checked ? "true" : null };
  }

  function when(seconds) {
    return new Date(seconds * 1000).toLocaleString("th-TH", { dateStyle: "medium", timeStyle: "short" });
  }

  function nodeName(catalog, id) {
    var found = (state.nodes[catalog] || []).filter(function (n) { return n.id === id; })[0];
    return found ? found.name : "";
  }

  function status(d, active) {
    if (d.withdraws) return "การยกเลิกรายการที่ " + d.withdraws;
    if (d.withdrawn_by) return "ยกเลิกแล้ว (รายการที่ " + d.withdrawn_by + ")";
    if (d.in_catalog === false) return "หัวข้อไม่อยู่ในแผนแล้ว ไม่นับ";
    if (d.in_catalog === null) return "แผนนี้ถูกลบแล้ว ไม่นับ";
    if (d.overridden) return "ถูกแทนด้วยการตัดสินใจใหม่กว่าในอีกระดับ ไม่นับ";
    return active ? "มีผล" : "";
  }

  /* The catalog's nodes (names, and its own levels for the level select); not kept after a failure (a 401 before a key
     was given left the levels empty for good: a blind review). */
  function nodes(catalog) {
    if (!catalog) return Promise.resolve([]);
    if (state.nodes[catalog]) return Promise.resolve(state.nodes[catalog]);
    return window.PAD.nodes(catalog).then(function (list) { state.nodes[catalog] = list; return list; }, function () { return []; });
  }

  /* The level select offers the catalog's own levels, rebuilt before the list is asked for: a level of the catalog
     chosen before went with the request ("ไม่มีระดับ issue"), and a catalog seen before kept the other's levels. */
  function levelsFor(catalog) {
    var select = $("decisions-level");
    if (select.dataset.catalog === catalog) return Promise.resolve();
    return nodes(catalog).then(function (list) {
      var keep = select.value;
      var levels = list.map(function (n) { return n.level; }).filter(function (lv, i, all) { return all.indexOf(lv) === i; });
      while (select.options.length > 1) select.remove(1);
      levels.forEach(function (lv) { select.appendChild(el("option", { value: lv, text: PA.levelName(lv), selected: lv === keep })); });
      if (levels.indexOf(keep) < 0) select.value = "";
      if (list.length) select.dataset.catalog = catalog;
    });
  }

  function summary(stats, applied) {
    var rate = stats.acceptance_rate, active = stats.active_acceptance_rate;
    var counted = stats.active - (stats.overridden || 0) - (stats.not_counting || 0);
    var scope = "สรุปของแผนนี้" + (applied.level ? " ระดับ" + PA.levelName(applied.level) : "") +
      (applied.source ? " ที่มา" + PA.sourceThai(applied.source) : "") + (applied.who ? " ผู้ตัดสิน " + PA.whoThai(applied.who) : "") +
      (applied.q ? " ข้อความมี \u201c" + applied.q + "\u201d" : "") + (applied.node_id ? " หมวด " + applied.node_id : "") + ": ";
    // withdrawn decisions and withdrawals are not in the first count (the history lists them: its total is larger), and a
    // label is one a text and level (a text decided at two levels has two): the numbers read as not adding up (a walkthrough)
    var parts = ["การตัดสินใจ " + PA.formatNumber(stats.decisions) + " รายการ (ไม่รวมที่ยกเลิก)",
                 "มีผลอยู่ " + PA.formatNumber(Math.max(0, counted)) + " (ข้อความละระดับ)"];
    if (stats.overridden) parts.push("ถูกแทนในอีกระดับ " + PA.formatNumber(stats.overridden));
    if (stats.not_counting) parts.push("หัวข้อไม่อยู่ในแผนแล้ว " + PA.formatNumber(stats.not_counting));
    if (stats.withdrawn) parts.push("ยกเลิกแล้ว " + PA.formatNumber(stats.withdrawn));
    if (rate !== null && rate !== undefined) parts.push("ยอมรับข้อเสนอของระบบ " + PA.percent(rate) + " ของ " + PA.formatNumber(stats.with_suggestion) + " ครั้งที่มีข้อเสนอ");
    if (active !== null && active !== undefined) parts.push("ในรายการที่มีผลอยู่ " + PA.percent(active));
    return scope + parts.join(" · ");
  }

  /* The list at ``offset`` with ``applied`` filters (default: the inputs as they are now). */
  function load(offset, applied) {
    var mine = ++requests;
    var params = applied || filters();
    state.loading = true;
    PA.setStatus($("decisions-status"), "กำลังโหลด…", "busy");
    return levelsFor(params.catalog).then(function () {
      if (!applied) params = filters();  // the level the catalog's own select now holds
      return Promise.all([
        PA.api("/v1/decisions" + PA.query(Object.assign({ offset: offset || null, limit: PAGE }, params))),
        PA.api("/v1/decisions/stats" + PA.query(Object.assign({}, params, { active: null })))  // the list's filters: its summary counts what it shows
      ]);
    }).then(function (answers) {
      if (mine !== requests) return null;
      var page = answers[0];
      if (!(page.decisions || []).length && page.total > 0 && offset > 0) {  // the last page emptied (its only row withdrawn): the one before
        return load(Math.floor((page.total - 1) / PAGE) * PAGE, params);
      }
      state.offset = offset || 0;
      state.total = page.total;
      state.applied = params;
      state.loaded = true;
      $("decisions-summary").textContent = summary(answers[1], params);
      draw(page.decisions || [], Boolean(params.active));
      drawPager();
      PA.setStatus($("decisions-status"), page.total ? "แสดงรายการที่ " + PA.formatNumber(state.offset + 1) + "–" +
        PA.formatNumber(state.offset + page.decisions.length) + " จาก " + PA.formatNumber(page.total) + " (ใหม่สุดก่อน)" : "ไม่มีการตัดสินใจที่ตรงกับตัวกรอง", "");
      return null;
    }).catch(function (err) {
      if (mine === requests) PA.setStatus($("decisions-status"), err.message || String(err), "error");
    }).then(function () { if (mine === requests) state.loading = false; });
  }

  function draw(decisions, active) {
    var body = PA.clear($("decisions-table").tBodies[0]);
    decisions.forEach(function (d) {
      var undoable = !d.withdraws && !d.withdrawn_by;
      var shown = d.text.length > SHOWN_CHARS ? d.text.slice(0, SHOWN_CHARS) + "…" : d.text;
      var name = d.withdraws ? "" : nodeName(d.catalog, d.node_id);
      body.appendChild(el("tr", { class: d.withdraws || d.withdrawn_by ? "muted" : "", dataset: { id: d.id } }, [
        el("td", { class: "nowrap small", text: when(d.created) }),
        el("td", { class: "text", text: shown, title: shown !== d.text ? d.text : null }),
        el("td", { class: "nowrap", text: PA.levelName(d.level) }),
        el("td", null, d.withdraws ? "–" : el("span", null, [el("code", { text: d.node_id }), name ? " " + name : ""])),
        el("td", { class: "small" }, d.suggested ? [el("code", { text: d.suggested }), d.accepted ? " (ยอมรับ)" : " (แก้ไข)"] : "–"),
        el("td", { class: "small", text: PA.sourceThai(d.source) + " · " + PA.whoThai(d.who) }),
        el("td", { class: "small", text: status(d, active) }),
        el("td", null, undoable ? el("button", { type: "button", class: "btn btn-small decision-withdraw", text: "ยกเลิก",
          "aria-label": "ยกเลิกการตัดสินใจ " + d.node_id + " ของ " + d.text.slice(0, 60),  // the row by what it shows (an id read as nothing)
          title: "ยกเลิกการตัดสินใจที่บันทึกผิด ระบบจะไม่นับและไม่เรียนรู้จากรายการนี้ (ประวัติยังเก็บไว้)",
          onclick: function () { withdraw(d); } }) : null)
      ]));
    });
    if (!decisions.length) body.appendChild(el("tr", null, el("td", { colspan: 8, class: "muted", text: "ไม่มีรายการ" })));
  }

  function drawPager() {
    var pager = $("decisions-pager");
    var focused = pager.contains(document.activeElement) ? document.activeElement.id : null;
    PA.clear(pager);
    pager.hidden = state.total <= PAGE;
    if (pager.hidden) return;
    pager.appendChild(el("button", { type: "button", class: "btn btn-small", id: "decisions-prev", text: "‹ ก่อนหน้า", disabled: state.offset === 0,
                                     onclick: function () { turn(-1); } }));
    pager.appendChild(el("span", { class: "muted small", text: " หน้า " + (Math.floor(state.offset / PAGE) + 1) + " จาก " + Math.ceil(state.total / PAGE) + " " }));
    pager.appendChild(el("button", { type: "button", class: "btn btn-small", id: "decisions-next", text: "ถัดไป ›", disabled: state.offset + PAGE >= state.total,
                                     onclick: function () { turn(1); } }));
    if (focused && $(focused) && !$(focused).disabled) $(focused).focus();  // paging by keyboard kept its place (focus fell to the page)
    else if (focused) PA.focusIfLost($("decisions-status"));
  }

  /* A page on, in the list shown: a double click went past the end ("101–100 จาก 59") while the first was on its way. */
  function turn(direction) {
    if (state.loading || !state.applied) return;
    var offset = state.offset + direction * PAGE;
    if (offset < 0 || offset >= state.total) return;
    load(offset, state.applied);
  }

  function withdraw(d) {
    if (state.writing || state.loading) return;  // one at a time
    // asked first: one click beside the row's other cells withdrew a decision, and only deciding again undid it (a walkthrough)
    var shown = d.text.length > 60 ? d.text.slice(0, 60) + "…" : d.text;
    if (!window.confirm("ยกเลิกการตัดสินใจรายการที่ " + d.id + " (" + d.node_id + ") ของ \u201c" + shown + "\u201d? " +
                        "ระบบจะไม่นับและไม่เรียนรู้จากรายการนี้ (ประวัติยังเก็บไว้)")) return;
    state.writing = true;
    PA.setStatus($("decisions-status"), "กำลังยกเลิก…", "busy");
    PA.api("/v1/decisions/" + encodeURIComponent(d.id) + "?source=evaluator", { method: "DELETE" })
      .then(function (answer) {
        var standing = (answer.still_active || []).map(function (s) { return s.node_id + " (ระดับ" + PA.levelName(s.level) + ")"; });
        return load(state.offset, state.applied).then(function () {
          PA.setStatus($("decisions-status"), "ยกเลิกรายการที่ " + d.id + " แล้ว" + (answer.already ? " (ยกเลิกไว้ก่อนแล้ว)" : "") +
            (standing.length ? " · ข้อความนี้ตอนนี้ใช้: " + standing.join(", ") : " · ข้อความนี้ไม่มีหมวดที่ตัดสินไว้แล้ว"), "ok");
          PA.focusIfLost($("decisions-status"));  // the clicked button went with its row
        });
      })
      .catch(function (err) { PA.setStatus($("decisions-status"), err.message || String(err), "error"); })
      .then(function () { state.writing = false; });
  }

  function download(format) {
    if (!state.applied) return;
    PA.download("/v1/decisions" + PA.query(Object.assign({ format: format }, state.applied)), "decisions." + format)
      .catch(function (err) { PA.setStatus($("decisions-status"), err.message || String(err), "error"); });
  }

  /* First shown when opened; a failure (reads need a key not given yet) says so and is tried again at the next opening or "แสดง". */
  function open() {
    PA.loadCatalogs().then(function () { return load(0); }, function (err) {
      PA.setStatus($("decisions-status"), err.message || String(err), "error");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = $("decisions-source");
    PA.sources.forEach(function (s) { select.appendChild(el("option", { value: s, text: PA.sourceThai(s) })); });
    $("decisions-filter").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!$("decisions-catalog").options.length) open(); else load(0);
    });
    ["decisions-catalog", "decisions-level", "decisions-source", "decisions-active"].forEach(function (id) {
      $(id).addEventListener("change", function () { load(0); });
    });
    $("decisions-csv").addEventListener("click", function () { download("csv"); });
    $("decisions-xlsx").addEventListener("click", function () { download("xlsx"); });
    // read when opened: not for people who only upload a file; opened by a link to #decisions
    var box = $("decisions-box");
    box.addEventListener("toggle", function () { if (box.open && !state.loaded) open(); });
    if (window.location.hash === "#decisions") { box.open = true; box.scrollIntoView(); }
  });
})();
