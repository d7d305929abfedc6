/* Evaluation page: the review grid of a finished job (GET /v1/classify/jobs/{id}/review).
   Rows that need review come first; a reviewer accepts the suggestion or corrects it with the node
   picker, by mouse or keyboard, and each choice is an "evaluator" decision the model learns from.
   Listens for the "pa:job" event that evaluate.js sends whenever it shows a job. */
(function () {
  "use strict";
  var PA = window.PA;
  var PAD = window.PAD;
  var el = PA.el;
  // Rows per page: a 3,000-row job showed its first 1,000 and no way on (a walkthrough), and every
  // accept redrew all of them (1.7 s a key); pages of 200 go on with the keyboard (j past the last row).
  var PAGE = 200;

  var state = { job: null, catalog: null, level: null, rows: [], active: 0, loading: false, offset: 0, total: 0 };

  function $(id) { return document.getElementById(id); }

  function catalogOf(job) { return (job.params || {}).catalog || document.body.dataset.defaultCatalog; }

  function onJob(event) {
    var job = event.detail;
    if (!job || job.status !== "done") { $("review-box").hidden = true; return; }
    // the same job again (back from another one): shown again as it was, not reloaded (it stayed hidden: a walkthrough)
    if (state.job && state.job.id === job.id) { $("review-box").hidden = false; return; }
    state.job = job;
    state.catalog = catalogOf(job);
    $("review-box").hidden = false;
    fillDimensions();
    /* the other job's rows leave at once: they stayed, keys doing nothing, until the new job's came (seconds for a
       large file: an evaluation team at scale) */
    state.rows = [];
    state.total = 0;
    PA.clear($("review-table").tBodies[0]).appendChild(el("tr", null, el("td", { colspan: 6, class: "muted", text: "กำลังโหลดแถวของงานนี้…" })));
    $("review-summary").textContent = "";
    $("review-rule").textContent = "";
    $("review-pager").hidden = true;
    PA.setStatus($("review-status"), "กำลังโหลดแถวของ " + ((job.params || {}).filename || "งานนี้") + "…", "busy");
    load(0, 0).then(function () {  // a later job's loading is not this one's to clear (switching fast: a blind review)
      if (state.job === job && $("review-status").classList.contains("busy")) PA.setStatus($("review-status"), "", "");
    });
  }

  function fillDimensions() {
    var select = $("review-dimension");
    while (select.options.length > 1) select.remove(1);
    PAD.nodes(state.catalog).then(function (nodes) {
      nodes.filter(function (n) { return n.depth === 0; }).forEach(function (n) {
        select.appendChild(el("option", { value: n.id, text: n.id + " " + n.name }));
      });
    }).catch(function () { /* ids only */ });
  }

  // The page at ``offset`` (default: the one shown), with row ``keep`` active (-1: the last; "undecided":
  // the first row without a decision). The offset is the page's only once its rows arrived, and an
  // answer to an older request is dropped: a double click on "next" skipped a page (a blind review).
  var requests = 0;
  function load(keep, offset) {
    var at = offset === undefined ? state.offset : offset;
    var mine = ++requests;
    var params = { limit: PAGE, offset: at || null, needs_review: $("review-needs").checked ? "true" : null,
                   dimension: $("review-dimension").value || null };
    state.loading = true;
    return PA.api("/v1/classify/jobs/" + encodeURIComponent(state.job.id) + "/review" + PA.query(params)).then(function (data) {
      if (mine !== requests) return;
      state.offset = at;
      state.level = data.level;
      state.rows = data.rows || [];
      state.total = data.total;
      var shown = state.rows.length ? "แสดงแถวที่ " + PA.formatNumber(state.offset + 1) + "–" + PA.formatNumber(state.offset + state.rows.length) : "แสดง 0";
      $("review-summary").textContent = ("ทั้งไฟล์: ควรตรวจ " + PA.formatNumber(data.needs_review) + " แถว · ตัดสินแล้ว " +
        PA.formatNumber(data.decided) + " แถว · " + shown + " จาก " + PA.formatNumber(data.total) +
        " แถวที่ตรงกับตัวกรอง (ระดับ" + PA.levelName(data.level) + ")");
      drawPager();
      $("review-rule").textContent = reviewRule(data);
      var last = Math.max(0, state.rows.length - 1);
      var undecided = state.rows.findIndex(function (r) { return !r.decision; });
      // {after, at, key}: the row after the one just decided, which may have left the filtered list (a correction
      // into another dimension): then the row that took its place (the next one was skipped; a blind review);
      // past the rows of the same text (as decisions key it) the decision decided with it, which sort beside it (same confidence):
      // a repeated line took the next key press to an already-decided copy
      var decided = keep && typeof keep === "object" ? state.rows.findIndex(function (r) { return r.index === keep.after; }) : -1;
      var active = keep === "undecided" ? (undecided < 0 ? 0 : undecided)
        : keep && typeof keep === "object" ? (decided >= 0 ? decided + 1 : keep.at)
        : keep < 0 ? last : (keep || 0);
      while (keep && typeof keep === "object" && active < last && state.rows[active].decision && state.rows[active].text_key === keep.key) active++;
      draw(Math.min(active, last));
    }).catch(function (err) { if (mine === requests) PA.setStatus($("review-status"), err.message, "error"); })
      .then(function () { if (mine === requests) state.loading = false; });
  }

  // Why rows are flagged: the threshold the job used and where it came from (a whole file flagged reads as what it is).
  function reviewRule(data) {
    if (data.review_below === null || data.review_below === undefined) return "";
    var offTopic = " หรือเมื่อข้อความแทบไม่ตรงกับหมวดใดในแคตตาล็อก";
    if (data.review_below >= 1) {
      return "ทุกแถวควรตรวจ: ในการตัดสิน " + PA.formatNumber(data.review_decisions) + " รายการของแคตตาล็อกนี้ " +
        "ยังไม่มีระดับความมั่นใจใดที่ข้อเสนอถูกถึง 90% (แถวที่ความมั่นใจต่ำสุดอยู่ก่อน)";
    }
    var rule = "ควรตรวจเมื่อความมั่นใจต่ำกว่า " + PA.percent(data.review_below) + offTopic;
    if (data.review_decisions > 0) {
      return rule + " (เกณฑ์นี้ตั้งจากการตัดสิน " + PA.formatNumber(data.review_decisions) +
        " รายการของแคตตาล็อกนี้: ระดับที่ข้อเสนอสำหรับข้อความที่ตัดสินแล้วถูกอย่างน้อย 90%)";
    }
    return rule + " (เกณฑ์ตั้งต้น)";
  }

  function draw(active) {
    var body = PA.clear($("review-table").tBodies[0]);
    state.rows.forEach(function (row, i) {
      var decided = row.decision;
      var tr = el("tr", { class: (decided ? "decided" : "") + (row.needs_review ? " needs" : ""), dataset: { index: row.index } }, [
        el("td", { class: "num" }, [String(row.row), row.row_id ? el("div", { class: "small muted", text: row.row_id,
          title: row.project_id ? "โครงการที่เก็บไว้ในระบบ: การตัดสินใจนับในภาพรวมงบประมาณด้วย" : null }) : null]),
        el("td", { class: "text", text: row.text || "(ว่าง)" }),
        el("td", null, [el("code", { text: row.pred_label || "–" }), " ", el("span", { class: "small", text: row.pred_name || row.error_th || row.error || "" }),
          row.needs_review ? [" ", el("span", { class: "badge needs-review", text: "ควรตรวจ" })] : null,
          row.note ? el("div", { class: "small status warn review-note", text: row.note }) : null]),
        el("td", { class: "num", text: row.pred_confidence === null || row.pred_confidence === undefined ? "–" : PA.percent(row.pred_confidence) }),
        el("td", { class: "decision" }, decided ? [el("code", { text: decided.node_id }), " ",
          el("span", { class: "small muted", text: (row.accepted ? "ยอมรับ" : "แก้ไข") + " · " + PA.whoThai(decided.who) +
            (decided.level && decided.level !== state.level ? " · ตัดสินที่ระดับ" + PA.levelName(decided.level) : "") }), " ",
          el("button", { type: "button", class: "link-button review-withdraw", text: "ยกเลิก", "aria-label": "ยกเลิกการตัดสินของแถว " + row.row,
                         title: "ยกเลิกการตัดสินนี้ (ปุ่ม u): ระบบจะไม่นับและไม่เรียนรู้จากการตัดสินนี้ ข้อความจะใช้การตัดสินก่อนหน้าที่ยังมีผล (ถ้ามี)",
                         onclick: function (event) { event.stopPropagation(); select(i); withdraw(); } })] : "–"),
        el("td", null, [
          el("button", { type: "button", class: "btn btn-small review-accept", text: "ยอมรับ", "aria-label": "ยอมรับข้อเสนอของแถว " + row.row,
                         disabled: !row.pred_label || !row.text || row.removed_suggestion,
                         onclick: function (event) { event.stopPropagation(); select(i); accept(); } }), " ",
          el("button", { type: "button", class: "btn btn-small review-correct", text: "แก้ไข…", "aria-label": "แก้ไขแถว " + row.row,
                         disabled: !row.text || Boolean(row.error),
                         title: row.error ? "แถวนี้อ่านข้อความไม่ได้ จึงบันทึกการตัดสินใจไม่ได้ กรุณาแก้ข้อความในไฟล์" : null,
                         onclick: function (event) { event.stopPropagation(); select(i); correct(); } })
        ])
      ]);
      tr.addEventListener("click", function () { select(i); });
      body.appendChild(tr);
    });
    if (!state.rows.length) body.appendChild(el("tr", null, el("td", { colspan: 6, class: "muted", text: "ไม่มีแถวที่ตรงกับตัวกรอง" })));
    select(active || 0);
  }

  function drawPager() {
    var pager = PA.clear($("review-pager"));
    pager.hidden = state.total <= PAGE;
    if (pager.hidden) return;
    var page = Math.floor(state.offset / PAGE) + 1, pages = Math.ceil(state.total / PAGE);
    pager.appendChild(el("button", { type: "button", class: "btn btn-small", id: "review-prev", text: "‹ หน้าก่อน", disabled: state.offset === 0,
                                     onclick: function () { turn(-1, 0); } }));
    pager.appendChild(el("span", { class: "muted small", text: " หน้า " + page + " จาก " + pages + " " }));
    pager.appendChild(el("button", { type: "button", class: "btn btn-small", id: "review-next", text: "หน้าถัดไป ›", disabled: page >= pages,
                                     onclick: function () { turn(1, 0); } }));
  }

  // Another page (direction -1 / +1), with row ``at`` of it active (as load's keep); false when there is none.
  function turn(direction, at) {
    if (state.loading) return true;  // a page is on its way: this key or click is spent on it
    var offset = state.offset + direction * PAGE;
    if (offset < 0 || offset >= state.total) return false;
    load(at, offset).then(function () { $("review-grid").focus({ preventScroll: true }); });
    return true;
  }

  function select(i) {
    var trs = $("review-table").tBodies[0].rows;
    if (!state.rows.length) return;
    state.active = Math.max(0, Math.min(state.rows.length - 1, i));
    // what a key could not do on a row is not left beside another one ("แถว 1181 ยังไม่มีการตัดสิน..." stayed on the next page);
    // the row by its place in the file: a new page's first row has the index the old page's had (a blind review)
    var now = state.rows[state.active].index;
    if (state.activeRow !== undefined && state.activeRow !== now && $("review-status").classList.contains("error")) PA.setStatus($("review-status"), "", "");
    state.activeRow = now;
    Array.prototype.forEach.call(trs, function (tr, k) {
      tr.classList.toggle("active", k === state.active);
      if (k === state.active) tr.setAttribute("aria-current", "true"); else tr.removeAttribute("aria-current");
    });
    trs[state.active].scrollIntoView({ block: "nearest" });
    announce(state.rows[state.active]);
  }

  /* A screen reader hears the row the keys moved to (j / k were silent: the active row was a colour only; an accessibility audit). */
  function announce(row) {
    if (!row || document.activeElement !== $("review-grid")) return;
    $("review-current").textContent = "แถว " + row.row + ": " + (row.text || "(ว่าง)").slice(0, 200) + " · ข้อเสนอ " + (row.pred_label || "–") + " " +
      (row.pred_name || "") + (row.pred_confidence === null || row.pred_confidence === undefined ? "" : " ความมั่นใจ " + PA.percent(row.pred_confidence)) +
      (row.needs_review ? " · ควรตรวจ" : "") + (row.decision ? " · ตัดสินแล้ว " + row.decision.node_id : "");
  }

  /* One write at a time: "a" then "u" before the answer withdrew the decision the row showed before, not the new one
     (a blind review); the keys and buttons wait for the write and the page that follows it. */
  var writing = false;
  function busy() { return writing || state.loading; }

  function save(node) {
    if (busy()) return;
    writing = true;
    var row = state.rows[state.active];
    var at = state.active;
    PA.setStatus($("review-status"), "กำลังบันทึก…", "busy");
    // a suggestion of a node the catalog no longer has (revised since the job) is not one it can record
    return PAD.record({ text: row.text, node_id: node, level: state.level, catalog: state.catalog,
                        suggested: (!row.removed_suggestion && row.pred_label) || null,
                        suggested_confidence: row.pred_confidence, source: "evaluator", project_id: row.project_id || null })
      .then(function () {
        /* a decision is on the text: rows of the same text are decided with it, and the status says which (on this
           page) instead of leaving them to turn "ตัดสินแล้ว" unannounced (an evaluation team's walkthrough) */
        var same = state.rows.filter(function (r) { return r !== row && r.text_key === row.text_key; }).map(function (r) { return r.row; });
        PA.setStatus($("review-status"), "บันทึกแล้ว: แถว " + row.row + " → " + node +
          (same.length ? " (ข้อความเดียวกันจึงได้หมวดนี้ด้วย: แถว " + same.slice(0, 10).join(", ") + (same.length > 10 ? " …" : "") + ")" : ""), "ok");
        // the page's last row decided: on to the next page (a stays on row 200 and posted it again)
        if (at + 1 >= state.rows.length && state.offset + PAGE < state.total) return load(0, state.offset + PAGE).then(keepKeys);
        writing = false;  // load() holds the keys from here (state.loading)
        return load({ after: row.index, at: at, key: row.text_key }).then(keepKeys);
      })
      .catch(function (err) { PA.setStatus($("review-status"), err.message, "error"); })
      .then(function () { writing = false; });
  }

  /* The grid keeps the keyboard after a mouse click: redrawing removed the clicked button, focus fell
     to the page and j / a / n did nothing until the grid was clicked again. */
  function keepKeys() {
    var focused = document.activeElement;
    if (!focused || focused === document.body || !document.contains(focused)) $("review-grid").focus({ preventScroll: true });
  }

  /* Why a row cannot be decided, said where the keys are: a/Enter on a row the job could not read did nothing (a walkthrough). */
  function undecidable(row) {
    if (!row) return true;
    if (!row.text || row.error) {  // a text that cannot be read cannot be decided (the API refuses it)
      PA.setStatus($("review-status"), "แถว " + row.row + " อ่านข้อความไม่ได้ จึงตัดสินหมวดไม่ได้ กด n เพื่อไปแถวถัดไปที่ยังไม่ตัดสิน", "error");
      return true;
    }
    return false;
  }

  function accept() {
    var row = state.rows[state.active];
    if (undecidable(row)) return;
    if (!row.pred_label || row.removed_suggestion) {
      PA.setStatus($("review-status"), "แถว " + row.row + " ไม่มีข้อเสนอที่ยอมรับได้ (หัวข้อไม่อยู่ในแคตตาล็อกแล้ว) กด c เพื่อเลือกหัวข้อเอง", "error");
      return;
    }
    save(row.pred_label);
  }

  function correct() {
    if (busy()) return;
    var row = state.rows[state.active];
    if (undecidable(row)) return;
    PAD.pick({ catalog: state.catalog, level: state.level, current: row.pred_label, title: "แก้ไขแถว " + row.row })
      .then(function (node) { if (node) save(node.id); $("review-grid").focus(); });
  }

  /* A decision taken by mistake (a slipped key) is taken back: it is withdrawn (the history keeps both) and the row
     shows what stands now: an older decision on its text, or the suggestion; rows of the same text with it. */
  function withdraw() {
    if (busy()) return;
    var row = state.rows[state.active];
    if (!row || !row.decision) {
      if (row) PA.setStatus($("review-status"), "แถว " + row.row + " ยังไม่มีการตัดสินที่จะยกเลิก", "error");
      return;
    }
    writing = true;  // one at a time: "u u" sent two, and the second's answer replaced the first's (a blind review)
    var at = state.active;
    PA.setStatus($("review-status"), "กำลังยกเลิก…", "busy");
    PA.api("/v1/decisions/" + encodeURIComponent(row.decision.id) + "?source=evaluator", { method: "DELETE" })
      .then(function (answer) {
        var standing = (answer.still_active || []).map(function (d) { return d.node_id + " (ระดับ" + PA.levelName(d.level) + ")"; });
        PA.setStatus($("review-status"), "ยกเลิกแล้ว: แถว " + row.row + " ไม่ใช้การตัดสิน " + row.decision.node_id + " แล้ว" +
          (standing.length ? " · ที่มีผลกับข้อความนี้ตอนนี้: " + standing.join(", ") : ""), "ok");
        writing = false;
        return load(at).then(keepKeys);
      })
      .catch(function (err) { PA.setStatus($("review-status"), err.message, "error"); })
      .then(function () { writing = false; });
  }

  function nextUndecided() {
    for (var k = state.active + 1; k < state.rows.length; k++) if (!state.rows[k].decision) return select(k);
    turn(1, "undecided");  // none left on this page: the next one's first undecided row
  }

  function onKey(event) {
    if (busy() || event.altKey || event.ctrlKey || event.metaKey) return;
    if (/^(BUTTON|INPUT|SELECT|TEXTAREA|A)$/.test(event.target.tagName)) return; // their own keys (Enter clicks a button)
    // the letters by the key pressed, not the character: with the Thai keyboard layout on (or Caps Lock) j / k / a / c / n
    // typed ่ า ฟ แ ื and did nothing (an accessibility audit)
    // a Latin letter as typed (Dvorak, AZERTY: their "j" is not on the key of QWERTY's; a blind review), else by the key's place
    var key = /^[a-z]$/i.test(event.key) ? event.key.toLowerCase() : /^Key[A-Z]$/.test(event.code || "") ? event.code.slice(3).toLowerCase() : event.key;
    if (key === "ArrowDown" || key === "j") { if (state.active < state.rows.length - 1 || !turn(1, 0)) select(state.active + 1); }
    else if (key === "ArrowUp" || key === "k") { if (state.active > 0 || !turn(-1, -1)) select(state.active - 1); }
    else if (key === "a" || key === "Enter") accept();
    else if (key === "c") correct();
    else if (key === "n") nextUndecided();
    else if (key === "u") withdraw();
    else return;
    event.preventDefault();
  }

  function download(format) {
    if (!state.job) return;
    var stem = String((state.job.params || {}).filename || "result").replace(/\.[^.]+$/, "");
    // PA.download shows the API's Thai message (a removed job: "อาจถูกลบไปแล้ว"), not only the status code
    PA.download("/v1/classify/jobs/" + encodeURIComponent(state.job.id) + "/corrected?format=" + format, stem + "-corrected." + format)
      .catch(function (err) { PA.setStatus($("review-status"), err.message, "error"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("pa:job", onJob);
    $("review-grid").addEventListener("keydown", onKey);
    // a filter starts again at its first page, and gives the keyboard back to the grid (j / a did nothing while the select kept it)
    ["review-needs", "review-dimension"].forEach(function (id) {
      $(id).addEventListener("change", function () { load(0, 0).then(function () { $("review-grid").focus({ preventScroll: true }); }); });
    });
    $("download-corrected-csv").addEventListener("click", function () { download("csv"); });
    $("download-corrected-xlsx").addEventListener("click", function () { download("xlsx"); });
  });
})();
