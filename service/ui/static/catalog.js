/* Catalog page: GET /v1/catalogs/{id} and show the tree as nested, collapsible <details>. */
(function () {
  "use strict";
  var PA = window.PA;
  var el = PA.el;

  function $(id) { return document.getElementById(id); }

  function renderNode(node, depth) {
    var children = node.children || [];
    var searchable = [node.id, node.name, node.description || "", (node.keywords || []).join(" ")].join(" ").toLowerCase();
    var body = [
      node.description ? el("p", { class: "node-description", text: node.description }) : null,
      (node.keywords || []).length ? el("div", { class: "keywords" }, [
        el("span", { class: "keywords-label", text: "คำสำคัญ:" }),
        el("ul", { class: "chips" }, node.keywords.map(function (k) { return el("li", { class: "chip", text: k }); }))
      ]) : null,
      children.length ? el("div", { class: "children" }, children.map(function (c) { return renderNode(c, depth + 1); })) : null
    ];
    return el("details", { class: "node depth-" + depth, open: depth === 0, dataset: { nodeId: node.id, search: searchable } }, [
      el("summary", null, [
        el("span", { class: "node-id", text: node.id }), " ",
        el("span", { class: "node-name", text: node.name }), " ",
        el("span", { class: "level-tag", text: PA.levelName(node.level) }),
        children.length ? el("span", { class: "muted small", text: " · " + children.length + " หัวข้อย่อย" }) : null
      ]),
      el("div", { class: "node-body" }, body)
    ]);
  }

  function load() {
    var id = $("catalog").value;
    var tree = PA.clear($("tree"));
    $("remove-catalog").hidden = true;
    if (!id) return;
    PA.loadCatalogs().then(function (data) {
      var chosen = ((data && data.catalogs) || []).filter(function (c) { return c.id === id; })[0];
      $("remove-catalog").hidden = !(chosen && chosen.removable);
    });
    PA.setStatus($("tree-summary"), "กำลังโหลด…", "busy");
    PA.api("/v1/catalogs/" + encodeURIComponent(id)).then(function (data) {
      (data.tree || []).forEach(function (n) { tree.appendChild(renderNode(n, 0)); });
      var parts = (data.levels || []).map(function (level) {
        return PA.levelName(level) + " " + ((data.per_level || {})[level] || 0);
      });
      PA.setStatus($("tree-summary"), (data.title || data.id) + ": " + parts.join(" · ") + " (รวม " + data.nodes + " หัวข้อ)", "ok");
      applyFilter();
    }).catch(function (err) { PA.setStatus($("tree-summary"), err.message, "error"); });
  }

  /* Show nodes whose text contains the filter, with their ancestors (opened) and descendants. */
  function applyFilter() {
    var typed = $("tree-filter").value.trim();
    var word = typed.toLowerCase();
    var nodes = $("tree").querySelectorAll("details.node");
    var matched = 0;
    if (!word) {
      nodes.forEach(function (d) { d.hidden = false; d.classList.remove("match"); });
      PA.setStatus($("filter-status"), "");
      return;
    }
    nodes.forEach(function (d) { d.hidden = true; d.classList.remove("match"); });
    nodes.forEach(function (d) {
      if (d.dataset.search.indexOf(word) < 0) return;
      matched += 1;
      d.hidden = false;
      d.classList.add("match");
      d.querySelectorAll("details.node").forEach(function (c) { c.hidden = false; });
      var up = d.parentElement && d.parentElement.closest("details.node");
      while (up) { up.hidden = false; up.open = true; up = up.parentElement && up.parentElement.closest("details.node"); }
    });
    // a filter that matches nothing said nothing: the tree went blank under the full counts
    PA.setStatus($("filter-status"), matched ? "พบ " + PA.formatNumber(matched) + " หัวข้อที่มีคำว่า “" + typed + "”"
      : "ไม่พบหัวข้อที่มีคำว่า “" + typed + "”", matched ? "" : "warn");
  }

  /* DELETE /v1/catalogs/{id}: an uploaded catalog other than the default (test and mistaken uploads stayed in every
     page's list for good: a catalog author's walkthrough); its decisions are kept and count again if it comes back. */
  function removeCatalog() {
    var id = $("catalog").value;
    if (!id || !window.confirm("ลบแคตตาล็อก " + id + " ออกจากทุกหน้า? การตัดสินใจที่บันทึกไว้กับแคตตาล็อกนี้จะเก็บไว้ และกลับมานับเมื่ออัปโหลดแคตตาล็อกรหัสนี้อีกครั้ง")) return;
    var remove = function (force) { return PA.api("/v1/catalogs/" + encodeURIComponent(id) + (force ? "?force=true" : ""), { method: "DELETE" }); };
    remove(false).catch(function (err) {
      // jobs labelled with it would lose their review grid: said, and removed only if confirmed again
      if (err.status === 409 && window.confirm(err.message + " ต้องการลบต่อหรือไม่?")) return remove(true);
      throw err;
    }).then(function (removed) {
      if (!removed) return null;
      PA.setStatus($("upload-status"), "ลบแคตตาล็อก " + id + " แล้ว" + (removed.decisions_kept ? " (เก็บการตัดสินใจไว้ " + PA.formatNumber(removed.decisions_kept) + " รายการ)" : ""), "ok");
      return PA.loadCatalogs(true).then(load);
    }).catch(function (err) { PA.setStatus($("upload-status"), err.message, "error"); });
  }

  /* POST /v1/catalogs: a planner adds or replaces a catalog from the page (it took the API before);
     every problem of a refused file is listed in Thai with its row. */
  function upload(event) {
    event.preventDefault();
    var form = event.target;
    var data = new FormData();
    data.append("file", $("upload-file").files[0]);
    data.append("id", $("upload-id").value.trim());
    if ($("upload-title").value.trim()) data.append("title", $("upload-title").value.trim());
    var problems = PA.clear($("upload-problems"));
    problems.hidden = true;
    $("upload-submit").disabled = true;
    PA.setStatus($("upload-status"), "กำลังตรวจและบันทึก…", "busy");
    PA.api("/v1/catalogs", { method: "POST", body: data }).then(function (saved) {
      // what the new version changes, node by node, and the decisions it touches (counts alone told an office
      // neither which nodes changed nor where the decisions were: a catalog author's walkthrough)
      var changed = [["เพิ่ม", saved.added], ["ลบ", saved.removed], ["เปลี่ยนชื่อ", saved.renamed], ["ย้ายไปอยู่ใต้หัวข้ออื่น", saved.moved]]
        .filter(function (c) { return c[1] && c[1].length; })
        .map(function (c) { return c[0] + " " + c[1].length + " หัวข้อ (" + c[1].slice(0, 20).join(", ") + (c[1].length > 20 ? ", …" : "") + ")"; });
      var stale = saved.replaced ? (changed.length ? " การเปลี่ยนแปลง: " + changed.join(" · ") : " หัวข้อเหมือนฉบับเดิมทุกหัวข้อ") : "";
      if (saved.newly_stale_decisions) stale += " · การตัดสินใจ " + PA.formatNumber(saved.newly_stale_decisions) + " รายการอ้างถึงหัวข้อที่ลบในฉบับนี้";
      if (saved.stale_decisions) stale += " · การตัดสินใจที่อ้างถึงหัวข้อที่ไม่มีในแคตตาล็อกแล้วรวม " + PA.formatNumber(saved.stale_decisions) +
        " รายการจะไม่ถูกนับ (ดูได้ที่หน้าประเมินผล ส่วน “การตัดสินใจที่บันทึกไว้” /evaluate#decisions หรือ /v1/decisions?catalog=" + encodeURIComponent(saved.id) + "&active=true ที่มี in_catalog = false; อัปโหลดฉบับที่มีหัวข้อนั้นอีกครั้งจะกลับมานับ)";
      if (saved.renamed_decisions) stale += " · การตัดสินใจ " + PA.formatNumber(saved.renamed_decisions) +
        " รายการอ้างถึงหัวข้อที่เปลี่ยนชื่อ ยังถูกนำไปเรียนรู้ภายใต้ชื่อใหม่ กรุณาตรวจสอบ";
      PA.setStatus($("upload-status"), (saved.replaced ? "แทนที่แคตตาล็อก " : "เพิ่มแคตตาล็อก ") + (saved.title || saved.id) +
        " แล้ว (" + PA.formatNumber(saved.nodes) + " หัวข้อ) ใช้ได้ทันทีในทุกหน้า" + stale, "ok");
      form.reset();
      // the list read again; if that fails the upload still stood: say so apart from it
      PA.loadCatalogs(true).then(function () { $("catalog").value = saved.id; load(); })
        .catch(function (err) { PA.setStatus($("tree-summary"), "บันทึกแล้ว แต่โหลดรายการแคตตาล็อกใหม่ไม่ได้ กรุณาโหลดหน้านี้ใหม่ (" + err.message + ")", "error"); });
    }, function (err) {
      var detail = (err.body && err.body.detail) || [];
      detail.filter(function (p) { return p && p.message_th; }).forEach(function (p) {
        problems.appendChild(el("li", { text: (p.row ? "แถวที่ " + p.row + ": " : "") + p.message_th }));
      });
      problems.hidden = !problems.children.length;
      // with the list below, the status says how many and where, not the first problem again (it was said twice: a walkthrough)
      PA.setStatus($("upload-status"), problems.children.length > 1 ? "ไฟล์นี้ยังใช้เป็นแคตตาล็อกไม่ได้ พบ " + PA.formatNumber(problems.children.length) +
        " จุดที่ต้องแก้ (รายการด้านล่าง)" : err.message, "error");
    }).then(function () { $("upload-submit").disabled = false; PA.focusIfLost($("upload-submit")); });
  }

  function setAll(open) {
    $("tree").querySelectorAll("details.node").forEach(function (d) { d.open = open; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("catalog").addEventListener("change", load);
    $("tree-filter").addEventListener("input", applyFilter);
    $("expand-all").addEventListener("click", function () { setAll(true); });
    $("collapse-all").addEventListener("click", function () { setAll(false); });
    $("upload-form").addEventListener("submit", upload);
    $("remove-catalog").addEventListener("click", removeCatalog);
    // a field the browser refuses (a Thai id) stops the upload before it starts: the last upload's error went stale beside it
    $("upload-form").addEventListener("invalid", function () {
      PA.setStatus($("upload-status"), "");
      PA.clear($("upload-problems")).hidden = true;
    }, true);
    PA.loadCatalogs().then(load).catch(function (err) { PA.setStatus($("tree-summary"), err.message, "error"); });
  });
})();
