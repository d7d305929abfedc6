/* Decisions on the pages: a node picker over the catalog tree, and recording a decision.
   PAD.pick({catalog, level, title, current}) -> Promise of the chosen node {id, name, level} (null when cancelled).
   PAD.record({text, node_id, level, catalog, suggested, suggested_confidence, source}) -> Promise of the API answer.
   Writes go through PA.api (it sends the API key as the other pages do); no inline script or handler. */
(function () {
  "use strict";
  var PA = window.PA;
  var el = PA.el;
  var trees = {}; // catalog id -> Promise of its flat node list [{id, name, level, depth, path, lineage}]

  function nodes(catalogId) {
    if (!trees[catalogId]) {
      trees[catalogId] = PA.api("/v1/catalogs/" + encodeURIComponent(catalogId)).then(function (data) {
        var flat = [];
        (function walk(list, depth, path, ids) {
          (list || []).forEach(function (n) {
            var here = path.concat([n.name]), lineage = ids.concat([n.id]);
            flat.push({ id: n.id, name: n.name, level: n.level, depth: depth, path: here.join(" › "), lineage: lineage,
                        search: (n.id + " " + n.name + " " + (n.description || "") + " " + (n.keywords || []).join(" ")).toLowerCase() });
            walk(n.children, depth + 1, here, lineage);
          });
        })(data.tree, 0, [], []);
        return flat;
      });
      trees[catalogId].catch(function () { delete trees[catalogId]; });
    }
    return trees[catalogId];
  }

  /* A modal list of the catalog's nodes: type to filter, arrows to move, Enter to choose, Esc to cancel.
     Nodes at other levels than `level` are shown (for context) but cannot be chosen. */
  var pickers = 0;  // each picker's list gets ids of its own

  function pick(options) {
    return nodes(options.catalog).then(function (all) {
      return new Promise(function (resolve) {
        var listId = "picker-list-" + (++pickers);
        /* The filter keeps the keyboard and names the highlighted option (aria-activedescendant): a screen reader
           heard nothing of the node the arrows chose, which Enter then recorded (an accessibility audit). */
        var filter = el("input", { type: "text", class: "picker-filter", placeholder: "พิมพ์เพื่อค้นหา เช่น น้ำท่วม หรือ D1.4",
                                   "aria-label": "ค้นหาหัวข้อในแผน", role: "combobox", "aria-expanded": "true", "aria-controls": listId,
                                   "aria-autocomplete": "list" });
        var list = el("ul", { class: "picker-list", role: "listbox", "aria-label": "หัวข้อในแผน", id: listId });
        var cancel = el("button", { type: "button", class: "btn", text: "ยกเลิก" });
        var dialog = el("dialog", { class: "picker", "aria-label": options.title || "เลือกหัวข้อในแผน" }, [
          el("h3", { text: options.title || "เลือกหัวข้อในแผน" }),
          options.level ? el("p", { class: "muted small", text: "เลือกได้เฉพาะระดับ" + PA.levelName(options.level) }) : null,
          filter, list, el("div", { class: "actions" }, cancel)
        ]);
        var shown = [];
        var active = 0;
        var done = false;

        function finish(node) {
          if (done) return;
          done = true;
          dialog.close();
          dialog.remove();
          resolve(node);
        }
        function choosable(n) { return !options.level || n.level === options.level; }
        function highlight(index) {
          var items = list.querySelectorAll("li.choosable");
          if (!items.length) { filter.removeAttribute("aria-activedescendant"); return; }  // it named an option no longer there
          active = Math.max(0, Math.min(items.length - 1, index));
          items.forEach(function (item, i) {
            item.classList.toggle("active", i === active);
            item.setAttribute("aria-selected", String(i === active));
          });
          filter.setAttribute("aria-activedescendant", items[active].id);
          items[active].scrollIntoView({ block: "nearest" });
        }
        function draw() {
          var word = filter.value.trim().toLowerCase();
          PA.clear(list);
          shown = all.filter(function (n) { return !word || n.search.indexOf(word) >= 0 || n.path.toLowerCase().indexOf(word) >= 0; });
          shown.forEach(function (n) {
            var item = el("li", { class: "picker-node depth-" + n.depth + (choosable(n) ? " choosable" : " context"), id: listId + "-" + shown.indexOf(n),
                                  role: "option", dataset: { nodeId: n.id }, "aria-disabled": choosable(n) ? null : "true" }, [
              el("span", { class: "node-id", text: n.id }), " ", el("span", { text: n.name }), " ",
              el("span", { class: "level-tag", text: PA.levelName(n.level) }),
              n.id === options.current ? el("span", { class: "badge", text: "ข้อเสนอของระบบ" }) : null
            ]);
            if (choosable(n)) item.addEventListener("click", function () { finish(n); });
            list.appendChild(item);
          });
          if (!list.querySelector("li.choosable")) list.appendChild(el("li", { class: "muted", text: "ไม่พบหัวข้อที่ตรงกัน" }));
          /* Enter takes a node whose own id or name holds the words, else the system's own suggestion when they
             match it, before the first node that matched only by its description ("ห้องสมุด" highlighted D6.3
             by its description; the suggested D8.1 was further down, and Enter recorded D6.3: a walkthrough). */
          var choices = shown.filter(choosable);
          var isNamed = function (n) { return word && (n.id + " " + n.name).toLowerCase().indexOf(word) >= 0; };
          var named = choices.findIndex(isNamed);
          var suggested = choices.findIndex(function (n) { return word && n.id === options.current; });
          // the suggestion first when its own name holds the words too ("น้ำ" named D1.4 before the suggested D4.2: a blind review)
          highlight(suggested >= 0 && (named < 0 || isNamed(choices[suggested])) ? suggested : named >= 0 ? named : 0);
        }
        filter.addEventListener("input", draw);
        dialog.addEventListener("keydown", function (event) {
          var choices = shown.filter(choosable);
          if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
          else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
          else if (event.key === "Enter") { event.preventDefault(); if (choices[active]) finish(choices[active]); }
        });
        dialog.addEventListener("cancel", function (event) { event.preventDefault(); finish(null); });
        cancel.addEventListener("click", function () { finish(null); });
        document.body.appendChild(dialog);
        draw();
        dialog.showModal();
        filter.focus();
      });
    });
  }

  function record(decision) {
    return PA.api("/v1/decisions", { method: "POST", json: decision });
  }

  /* "learned from N decisions (model vK)" or "zero-shot" in Thai; ``learned`` false: the decisions did not change
     this answer (the page said it had learned beside a zero-shot answer: a planner's walkthrough). */
  function modelWords(version, examples, learned) {
    if (!version) return "ยังไม่ได้เรียนรู้จากการตัดสินใจ (จับคู่จากข้อความในแผนอย่างเดียว)";
    return "เรียนรู้จากการตัดสินใจ " + PA.formatNumber(examples) + " รายการ (แบบจำลองรุ่นที่ " + version + ")" +
      (learned === false && examples ? " แต่การตัดสินใจเหล่านั้นไม่ได้เปลี่ยนข้อเสนอของร่างนี้ (การตัดสินใจยังน้อย หรือร่างนี้ไม่ใกล้เคียงข้อความที่ตัดสินไว้)" : "");
  }

  /* Whether two nodes of a catalog lie on one path (one is the other's ancestor, or they are one node):
     decisions on one text at two levels that do not are contradictory, and the newest one counts. */
  function onOnePath(catalogId, a, b) {
    return nodes(catalogId).then(function (list) {
      var lineage = {};
      list.forEach(function (n) { lineage[n.id] = n.lineage; });
      return (lineage[a] || [a]).indexOf(b) >= 0 || (lineage[b] || [b]).indexOf(a) >= 0;
    });
  }

  window.PAD = { pick: pick, record: record, nodes: nodes, modelWords: modelWords, onOnePath: onOnePath };
})();
