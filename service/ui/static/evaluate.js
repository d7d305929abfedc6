/* Evaluation page: upload a file to /v1/classify/jobs, poll its status every second, show metrics. */
(function () {
  "use strict";
  var PA = window.PA;
  var el = PA.el;

  var STATUS = { queued: "รอคิว", running: "กำลังประมวลผล", done: "เสร็จแล้ว", failed: "ล้มเหลว", cancelled: "ยกเลิกแล้ว" };
  var catalogs = {};
  var nodeNames = {};
  var timer = null;

  function $(id) { return document.getElementById(id); }

  function fillLevels() {
    var select = PA.clear($("level"));
    var info = catalogs[$("catalog").value];
    select.appendChild(el("option", { value: "", text: "ค่าเริ่มต้นของแผน" }));
    ((info && info.levels) || []).forEach(function (level) {
      var count = info.per_level && info.per_level[level];
      select.appendChild(el("option", { value: level, text: PA.levelName(level), title: count ? count + " หัวข้อ" : null }));
    });
  }

  function loadNames(catalogId) {
    if (!catalogId || nodeNames[catalogId]) return;
    nodeNames[catalogId] = {};
    PA.api("/v1/catalogs/" + encodeURIComponent(catalogId)).then(function (data) {
      (function walk(nodes) {
        (nodes || []).forEach(function (n) { nodeNames[catalogId][n.id] = n.name; walk(n.children); });
      })(data.tree);
    }).catch(function () { /* ids only */ });
  }

  /* ---- the chosen file's columns (POST /v1/tables/columns): checked while the file is chosen, not after a failed job ---- */
  var fileColumns = null; // {filename, columns, rows, total_rows, text_columns, id_column} of the chosen file
  var columnsRequest = 0;

  function columnList(value) {
    return String(value || "").split(",").map(function (c) { return c.trim(); }).filter(Boolean);
  }

  function quoted(columns) {
    return columns.map(function (c) { return "“" + c + "”"; }).join(", ");
  }

  /* Columns the form asks for that the chosen file does not have (empty when no file was read). */
  function missingColumns(form) {
    if (!fileColumns) return [];
    var asked = columnList(form.text_col.value).concat([form.id_col.value.trim(), form.label_col.value.trim()].filter(Boolean));
    return asked.filter(function (c) { return fileColumns.columns.indexOf(c) < 0; });
  }

  function renderColumnChoices() {
    var box = PA.clear($("text-col-choices"));
    box.hidden = !fileColumns;
    if (!fileColumns) return;
    var chosen = columnList($("text-col").value);
    fileColumns.columns.forEach(function (column) {
      box.appendChild(el("label", null, [
        el("input", { type: "checkbox", value: column, checked: chosen.indexOf(column) >= 0, onchange: function () {
          var checked = [].slice.call(box.querySelectorAll("input:checked")).map(function (i) { return i.value; });
          $("text-col").value = checked.join(",");
        } }),
        column
      ]));
    });
  }

  function renderFilePreview() {
    var box = PA.clear($("file-preview"));
    box.hidden = !fileColumns || !fileColumns.rows.length;
    if (box.hidden) return;
    box.appendChild(el("table", { class: "table" }, [
      el("caption", { class: "muted small", text: "ตัวอย่าง " + fileColumns.rows.length + " แถวแรกจาก " + PA.formatNumber(fileColumns.total_rows) + " แถว" }),
      el("thead", null, el("tr", null, fileColumns.columns.map(function (c) { return el("th", { scope: "col", text: c }); }))),
      el("tbody", null, fileColumns.rows.map(function (row) {
        return el("tr", null, fileColumns.columns.map(function (c) { return el("td", { text: row[c] === undefined ? "" : row[c], title: row[c] }); }));
      }))
    ]));
  }

  /* Read the file's header as soon as it is chosen; when the text columns asked for are not all there,
     keep those that are, else take the columns that look like text, and say so in Thai. */
  function checkColumns() {
    var file = $("job-file").files[0];
    var status = $("columns-status");
    var token = ++columnsRequest;
    fileColumns = null;
    renderColumnChoices();
    renderFilePreview();
    PA.clear($("file-columns"));
    if (!file) { PA.setStatus(status, ""); return; }
    var data = new FormData();
    data.append("file", file, file.name);
    PA.setStatus(status, "กำลังอ่านหัวตารางของไฟล์…", "busy");
    PA.api("/v1/tables/columns", { method: "POST", body: data }).then(function (info) {
      if (token !== columnsRequest) return; // another file was chosen meanwhile
      fileColumns = info;
      info.columns.forEach(function (c) { $("file-columns").appendChild(el("option", { value: c })); });
      var wanted = columnList($("text-col").value);
      var present = wanted.filter(function (c) { return info.columns.indexOf(c) >= 0; });
      var absent = wanted.filter(function (c) { return info.columns.indexOf(c) < 0; });
      var chosen = absent.length ? (present.length ? present : info.text_columns) : wanted;
      if (!$("id-col").value.trim() && info.id_column) $("id-col").value = info.id_column;
      var rows = "ไฟล์ " + info.filename + " มี " + PA.formatNumber(info.total_rows) + " แถว";
      if (!info.total_rows) {  // said in green on choosing, refused only after "เริ่มประมวลผล" (a browser walkthrough)
        PA.setStatus(status, "ไฟล์ " + info.filename + " มีแต่แถวหัวตาราง ไม่มีข้อมูล กรุณาใส่ข้อมูลอย่างน้อยหนึ่งแถว", "error");
      } else if (!chosen.length) {
        PA.setStatus(status, rows + " แต่ไม่พบคอลัมน์ " + quoted(absent) + " กรุณาเลือกคอลัมน์ข้อความจากรายการด้านบน", "error");
      } else if (absent.length) {
        $("text-col").value = chosen.join(",");
        PA.setStatus(status, rows + " ไม่พบคอลัมน์ " + quoted(absent) + " จึงใช้คอลัมน์ " + quoted(chosen) + " เป็นข้อความแทน (เปลี่ยนได้ด้านบน)", "warn");
      } else {
        PA.setStatus(status, rows + " ใช้คอลัมน์ " + quoted(chosen) + " เป็นข้อความ", "ok");
      }
      renderColumnChoices();
      renderFilePreview();
    }).catch(function (err) {
      if (token === columnsRequest) PA.setStatus(status, err.message, "error");
    });
  }

  function setProgress(done, total, status, job) {
    $("progress-wrap").hidden = false;
    var ratio = total > 0 ? Math.min(1, done / total) : (status === "done" ? 1 : 0);
    $("progress-fill").style.width = (ratio * 100).toFixed(1) + "%";
    $("progress").setAttribute("aria-valuenow", String(Math.round(ratio * 100)));
    $("progress").classList.toggle("failed", status === "failed");
    $("progress-text").textContent = total > 0
      ? PA.formatNumber(done) + " / " + PA.formatNumber(total) + " แถว (" + Math.round(ratio * 100) + "%)"
      : (status === "queued" ? "รอเริ่มงาน…" : "");
    // one job runs at a time: a queued job says what is before it (it sat "queued" behind 2,000 rows without a word: an operator's walkthrough)
    if (status === "queued" && job && job.jobs_ahead) {
      $("progress-text").textContent = "รอคิว: มีงานก่อนหน้า " + PA.formatNumber(job.jobs_ahead) + " งาน (" + PA.formatNumber(job.rows_ahead) + " แถว)";
    }
    if (status === "running" && job && (job.params || {}).restarted) {  // the service restarted during it: it began again
      $("progress-text").textContent += " · เริ่มใหม่ตั้งแต่แถวแรก เพราะระบบเริ่มทำงานใหม่ระหว่างประมวลผล";
    }
  }

  function renderJob(job) {
    var box = PA.clear($("job-box"));
    var params = job.params || {};
    box.appendChild(el("dl", { class: "job-info" }, [
      el("dt", { text: "ไฟล์" }), el("dd", { text: params.filename || "-" }),
      el("dt", { text: "รหัสงาน" }), el("dd", null, el("code", { text: job.id })),
      el("dt", { text: "สถานะ" }), el("dd", null, el("span", { class: "badge status-" + job.status, text: STATUS[job.status] || job.status })),
      // which model labelled the file, as the command line and the planner page say (the page said nothing: an entry-point audit)
      params.learn === false || params.model_version !== undefined ? el("dt", { text: "แบบจำลอง" }) : null,
      params.learn === false ? el("dd", { id: "job-model", text: "ไม่ใช้การเรียนรู้ (ใช้แผนอย่างเดียว)" })
        : params.model_version ? el("dd", { id: "job-model", text: "รุ่นที่ " + params.model_version + " เรียนรู้จากการตัดสินใจ " + PA.formatNumber(params.examples || 0) + " รายการ" })
        : params.model_version !== undefined ? el("dd", { id: "job-model", text: "ยังไม่ได้เรียนรู้ (ใช้แผนอย่างเดียว)" }) : null
    ]));
    if (job.error && job.status !== "cancelled") {  // a cancelled job is not a failure ("ข้อผิดพลาด: cancelled by request")
      box.appendChild(el("p", { class: "status error", id: "job-error", text: "ข้อผิดพลาด: " + (job.message_th || job.error) }));
    }
    // a 10,000-row file runs for minutes: it can be stopped (one button, kept across polls: focus stays on it)
    var active = job.status === "queued" || job.status === "running";
    if (!active || $("job-cancel").dataset.job !== job.id) $("job-cancel").disabled = false;
    $("job-cancel").hidden = !active;
    $("job-cancel").dataset.job = job.id;
    var progress = job.progress || {};
    setProgress(progress.done || 0, progress.total || 0, job.status, job);

    var downloads = PA.clear($("downloads"));
    var partial = job.status === "cancelled" && params.partial_rows;  // the rows finished before it was stopped
    downloads.hidden = !(job.status === "done" || partial);
    if (job.status === "done" || partial) {
      var base = "/v1/classify/jobs/" + encodeURIComponent(job.id) + "/result?format=";
      var stem = String(params.filename || "result").replace(/\.[^.]*$/, "") + (partial ? "-labelled-partial." : "-labelled.");
      var rowsDone = partial ? " (" + PA.formatNumber(params.partial_rows) + " แถวแรกที่ทำเสร็จก่อนยกเลิก)" : "";
      [["csv", "btn btn-primary", "ดาวน์โหลด CSV"], ["xlsx", "btn", "ดาวน์โหลด XLSX"]].forEach(function (item) {
        // fetched with the API key when one is set (a plain link cannot send it: 401 when reads need a key)
        downloads.appendChild(el("a", { class: item[1], href: base + item[0], download: stem + item[0], text: item[2] + rowsDone,
          onclick: function (event) {
            event.preventDefault();
            PA.download(base + item[0], stem + item[0]).catch(function (err) { PA.setStatus($("job-status"), err.message, "error"); });
          } }));
      });
    }
    renderMetrics(job);
    document.dispatchEvent(new CustomEvent("pa:job", { detail: job })); // the review grid (review-grid.js) listens
  }

  function metricCard(label, value, hint) {
    return el("div", { class: "metric" }, [
      el("div", { class: "metric-value", text: value }),
      el("div", { class: "metric-label", text: label }),
      hint ? el("div", { class: "metric-hint", text: hint }) : null
    ]);
  }

  function renderMetrics(job) {
    var section = $("metrics-box");
    var m = job.metrics;
    /* Why rows were not scored, by kind: rows whose only gap was the answer read "no text, or a label not of the plan". */
    function skippedWhy(m) {
      if (m.unlabelled === undefined) return "ไม่มีข้อความ หรือป้ายกำกับไม่ใช่หัวข้อของแผนในระดับ" + PA.levelName(m.level) + "หรือต่ำกว่า";  // a job of an older version
      var why = [];
      if (m.unlabelled) why.push("ไม่มีป้ายกำกับ (คำตอบ) " + PA.formatNumber(m.unlabelled) + " แถว");
      if (m.empty_text) why.push("ไม่มีข้อความ " + PA.formatNumber(m.empty_text) + " แถว");
      var other = m.skipped - (m.unlabelled || 0) - (m.empty_text || 0);
      if (other) why.push("ป้ายกำกับไม่ใช่หัวข้อของแผนในระดับ" + PA.levelName(m.level) + "หรือต่ำกว่า " + PA.formatNumber(other) + " แถว");
      return why.join(" · ");
    }
    section.hidden = !(job.status === "done" && m);
    if (section.hidden) return;
    var note = $("metrics-note");
    note.hidden = !(m.unscored || m.skipped);
    note.textContent = m.unscored
      ? "ไม่ได้ประเมินผล: " + (m.unscored_th || "ไม่มีแถวที่ป้ายกำกับตรงกับแผนยุทธศาสตร์ที่เลือก (" + m.unscored + ")")
      : m.skipped ? "ไม่ได้นับ " + PA.formatNumber(m.skipped) + " แถว (แถวที่ " + (m.skipped_rows || []).join(", ") + (m.skipped > (m.skipped_rows || []).length ? " …" : "")
        + "): " + skippedWhy(m)
        + (m.unusable_labels ? " ในจำนวนนี้มีป้ายกำกับที่ใช้ไม่ได้ " + PA.formatNumber(m.unusable_labels) + " แถว: "
          + (m.unusable_label_rows || []).map(function (u) { return "แถวที่ " + u.row + " (" + u.label + ")"; }).join(", ")
          + (m.unusable_labels > (m.unusable_label_rows || []).length ? " …" : "") + " กรุณาตรวจว่าเป็นรหัสหรือชื่อหัวข้อของแผน" : "") : "";
    $("metric-cards").hidden = $("metrics-detail").hidden = Boolean(m.unscored);
    if (m.unscored) return;
    var names = nodeNames[(job.params || {}).catalog || document.body.dataset.defaultCatalog] || {};
    var cards = PA.clear($("metric-cards"));
    cards.appendChild(metricCard("ความถูกต้องอันดับ 1 (top-1)", PA.percent(m.top1, 1), "คำตอบอันดับแรกถูก"));
    cards.appendChild(metricCard("ความถูกต้องใน 3 อันดับ (top-3)", PA.percent(m.top3, 1), "คำตอบที่ถูกอยู่ใน 3 อันดับแรก"));
    cards.appendChild(metricCard("Macro-F1", PA.percent(m.macro_f1, 1), "ค่าเฉลี่ย F1 ทุกหมวด"));
    if (m.n !== undefined) cards.appendChild(metricCard("จำนวนที่ประเมิน", PA.formatNumber(m.n), m.level ? "ระดับ " + PA.levelName(m.level) : ""));

    var tbody = PA.clear($("per-class").tBodies[0]);
    var perClass = m.per_class || {};
    Object.keys(perClass).sort().forEach(function (label) {
      var c = perClass[label];
      var f1 = Number(c.f1) || 0;
      var bar = el("span", { class: "mini-bar" }, el("span", { class: "mini-fill" }));
      bar.firstChild.style.width = (f1 * 100).toFixed(1) + "%";
      tbody.appendChild(el("tr", null, [
        el("th", { scope: "row", class: "class-label" }, [el("code", { text: label }), names[label] ? el("span", { class: "muted small", text: " " + names[label] }) : null]),
        el("td", { class: "num", text: PA.percent(c.precision, 1) }),
        el("td", { class: "num", text: PA.percent(c.recall, 1) }),
        el("td", { class: "num" }, [bar, " ", PA.percent(f1, 1)]),
        el("td", { class: "num", text: PA.formatNumber(c.support) })
      ]));
    });
    var img = $("confusion-img");
    var src = "/v1/classify/jobs/" + encodeURIComponent(job.id) + "/confusion.png";
    if (img.dataset.source !== src) {  // fetched with the API key when one is set
      img.dataset.source = src;
      PA.blobUrl(src).then(function (url) {
        if (img.getAttribute("src")) URL.revokeObjectURL(img.getAttribute("src"));
        img.setAttribute("src", url);
      }).catch(function () { img.hidden = true; });
    }
  }

  var polling = 0;  // the newest poll: an older reply in flight (another #job=, a cancel) must not start a second loop

  var watching = null;  // the job seen queued or running
  function poll(jobId) {
    clearTimeout(timer);
    var mine = ++polling;
    PA.api("/v1/classify/jobs/" + encodeURIComponent(jobId)).then(function (job) {
      if (mine !== polling) return;
      renderJob(job);
      if (job.status === "queued" || job.status === "running") {
        watching = jobId;
        // reached again (after a restart, say): the outage's error goes and the file cannot be sent twice
        if ($("job-status").classList.contains("error")) PA.setStatus($("job-status"), "ประมวลผลต่อ…", "busy");
        $("job-submit").disabled = true;
        timer = setTimeout(function () { poll(jobId); }, 1000);
      } else {
        var kept = (job.params || {}).partial_rows;
        var ended = { done: ["ประมวลผลเสร็จแล้ว", "ok"],
                      cancelled: [kept ? "ยกเลิกงานแล้ว ดาวน์โหลดผล " + PA.formatNumber(kept) + " แถวแรกที่ทำเสร็จได้ด้านล่าง หรืออัปโหลดไฟล์ใหม่"
                                       : "ยกเลิกงานแล้ว อัปโหลดไฟล์ใหม่ได้", "warn"] }[job.status] || ["งานล้มเหลว", "error"];
        PA.setStatus($("job-status"), ended[0], ended[1]);
        $("job-submit").disabled = false;
        if (watching === jobId) { watching = null; loadRecent(); }  // it ended while shown: its new status in the list
      }
    }).catch(function (err) {
      if (mine !== polling) return;
      if (err.status === 0) {  // server restarting: the job carries on there, so the form stays locked and we keep asking
        PA.setStatus($("job-status"), err.message + " กำลังลองใหม่…", "error");
        timer = setTimeout(function () { poll(jobId); }, 3000);
        return;
      }
      PA.setStatus($("job-status"), err.message, "error");
      $("job-submit").disabled = false;
    });
  }

  // The newest jobs, each a link to its status, result and review grid: a closed tab lost them (a walkthrough).
  function loadRecent() {
    return PA.api("/v1/classify/jobs?limit=10").then(function (jobs) {
      var list = PA.clear($("recent-jobs"));
      $("recent-jobs-box").hidden = !jobs.length;
      jobs.forEach(function (job) {
        var when = new Date(job.created * 1000).toLocaleString("th-TH", { dateStyle: "medium", timeStyle: "short" });
        // a job that stopped says how far it got: a cancelled 400-row job read "400 แถว" with 300 done (a walkthrough)
        var total = job.progress && job.progress.total, done = job.progress && job.progress.done;
        var rows = !total ? "" : job.status === "done" || done >= total ? " · " + PA.formatNumber(total) + " แถว"
          : " · ทำแล้ว " + PA.formatNumber(done || 0) + " จาก " + PA.formatNumber(total) + " แถว";
        // what tells two runs of one file apart: the level, the catalog when not the default, zero-shot (they read the same: a walkthrough)
        var params = job.params || {};
        var how = (params.level ? " · ระดับ" + PA.levelName(params.level) : params.label_col ? " · ระดับตามป้ายในไฟล์" : " · ระดับล่างสุดของแผน") +
          (params.catalog && params.catalog !== document.body.dataset.defaultCatalog ? " · แผน " + params.catalog : "") +
          (params.learn === false ? " · ไม่ใช้การเรียนรู้" : "");
        list.appendChild(el("li", null, [
          el("a", { href: "#job=" + encodeURIComponent(job.id), text: params.filename || job.id }), " ",
          el("span", { class: "badge status-" + job.status, text: STATUS[job.status] || job.status }), " ",
          el("span", { class: "muted small", text: when + rows + how })
        ]));
      });
    }).catch(function () { /* the list is a convenience: the page works without it */ });
  }

  function cancelJob() {
    var button = $("job-cancel");
    button.disabled = true;
    PA.api("/v1/classify/jobs/" + encodeURIComponent(button.dataset.job), { method: "DELETE" })
      .catch(function (err) { if (err.status !== 409) PA.setStatus($("job-status"), err.message, "error"); })  // 409: it ended meanwhile
      .then(function () { poll(button.dataset.job); PA.focusIfLost($("job-heading")); });
  }

  function submit(event) {
    event.preventDefault();
    var form = event.target;
    var status = $("job-status");
    var file = form.file.files[0];
    if (!file) { PA.setStatus(status, "กรุณาเลือกไฟล์", "error"); PA.fieldError(form.file, status); return; }
    if (!form.text_col.value.trim()) { PA.setStatus(status, "กรุณาระบุคอลัมน์ข้อความ", "error"); PA.fieldError(form.text_col, status); return; }
    var missing = missingColumns(form);
    if (missing.length) {
      PA.setStatus(status, "ไฟล์ " + fileColumns.filename + " ไม่มีคอลัมน์ " + quoted(missing) + " กรุณาเลือกคอลัมน์ที่มีอยู่ในไฟล์", "error");
      return;
    }
    var data = new FormData();
    data.append("file", file, file.name);
    data.append("text_col", form.text_col.value.trim());
    ["id_col", "label_col", "catalog", "level"].forEach(function (name) {
      var value = form[name].value.trim();
      if (value) data.append(name, value);
    });
    if ($("zero-shot").checked) data.append("learn", "false");  // the API's learn=false: the page could not ask for it (an entry-point audit)
    $("job-submit").disabled = true;
    $("metrics-box").hidden = true;
    PA.setStatus(status, "กำลังอัปโหลด…", "busy");
    loadNames(form.catalog.value);
    PA.api("/v1/classify/jobs", { method: "POST", body: data }).then(function (job) {
      PA.setStatus(status, "อัปโหลดแล้ว กำลังประมวลผล…", "busy");
      try { history.replaceState(null, "", location.pathname + "#job=" + encodeURIComponent(job.id)); } catch (e) { /* ignore */ }
      renderJob(job);
      PA.focusIfLost($("job-heading"));  // the disabled button had the keyboard: it goes on at the job's status
      watching = job.id;  // listed as queued now: listed again when it ends, even before the first poll
      poll(job.id);
      loadRecent();
    }).catch(function (err) {
      PA.setStatus(status, err.message, "error");
      $("job-submit").disabled = false;
      PA.focusIfLost($("job-submit"));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("job-form").addEventListener("submit", submit);
    $("job-cancel").addEventListener("click", cancelJob);
    $("job-file").addEventListener("change", checkColumns);
    $("text-col").addEventListener("input", renderColumnChoices);
    $("catalog").addEventListener("change", fillLevels);
    PA.loadCatalogs().then(function (data) {
      (data.catalogs || []).forEach(function (c) { catalogs[c.id] = c; });
      fillLevels();
      loadNames($("catalog").value);
    }).catch(function (err) { PA.setStatus($("job-status"), err.message, "error"); });
    function followHash() {  // the job named in the address, also when only the #job= part changes
      var match = location.hash.match(/job=([0-9a-f]+)/i);
      if (match) { $("job-submit").disabled = true; $("metrics-box").hidden = true; poll(match[1]); }
    }
    followHash();
    loadRecent();
    window.addEventListener("hashchange", followHash);
  });
})();
