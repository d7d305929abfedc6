/* Planner page: POST /v1/align and show suggestions per level, evidence, warnings and duplicates. */
(function () {
  "use strict";
  var PA = window.PA;
  var el = PA.el;
  var DUPLICATES_SHOWN = 10; // similar projects listed before "แสดงทั้งหมด"

  var nodeNames = {}; // catalog id -> {node id -> name}, for readable paths

  /* A value as a CSS attribute selector holds it: a catalog's node id may hold a quote ('G2.2"b' made every selector
     throw, and the page showed no suggestion: a blind review). */
  function attr(value) { return window.CSS && CSS.escape ? CSS.escape(String(value)) : String(value).replace(/["\\]/g, "\\$&"); }

  function loadNames(catalogId) {
    if (!catalogId || nodeNames[catalogId]) return Promise.resolve(nodeNames[catalogId] || {});
    return PA.api("/v1/catalogs/" + encodeURIComponent(catalogId)).then(function (data) {
      var names = {};
      (function walk(nodes) {
        (nodes || []).forEach(function (n) { names[n.id] = n.name; walk(n.children); });
      })(data.tree);
      nodeNames[catalogId] = names;
      return names;
    }).catch(function () { return {}; });
  }

  function matchedText(text, words) {
    var short = PA.excerpt(text, words, 200);
    var quote = el("blockquote", { class: "evidence-matched" }, PA.highlightWords(short.text, words));
    if (!short.cut) return quote;
    var expanded = false;
    var toggle = el("button", { type: "button", class: "link-button", "aria-expanded": "false", text: "ดูข้อความเต็ม" });
    toggle.addEventListener("click", function () {
      expanded = !expanded;
      PA.clear(quote);
      PA.append(quote, PA.highlightWords(expanded ? text : short.text, words));
      toggle.textContent = expanded ? "ย่อข้อความ" : "ดูข้อความเต็ม";
      toggle.setAttribute("aria-expanded", String(expanded));
    });
    return [quote, toggle];
  }

  /* A cosine of the language model, said as what it is: e5 puts nearly any two Thai texts at 0.8 or more, so
     "ความคล้าย 87%" beside a 4%-confidence suggestion and an unrelated example read as near agreement (a planner's
     walkthrough). It compares the items of one answer; the confidence is what says how sure the suggestion is. */
  var COSINE_NOTE = "ค่าความคล้ายของความหมายจากแบบจำลองภาษา (cosine) ใช้เทียบกันระหว่างรายการ ไม่ใช่ร้อยละของความเหมือน " +
    "(แบบจำลอง e5 ที่ใช้ตามค่าเริ่มต้นให้ข้อความภาษาไทยทั่วไป 0.8 ขึ้นไป) ความมั่นใจของข้อเสนอคือตัวเลขที่บอกว่าระบบแน่ใจเพียงใด";

  function cosineWords(value) {
    var n = Number(value);
    return el("span", { class: "cosine", title: COSINE_NOTE, text: "ความคล้าย (cosine) " + (isFinite(n) ? n.toFixed(2) : "–") });
  }

  function renderEvidence(evidence, open) {
    if (!evidence || !evidence.length) return null;
    return el("details", { class: "evidence", open: open }, [
      el("summary", { class: "evidence-title" }, "หลักฐาน (" + evidence.length + " รายการ)"),
      el("ul", { class: "evidence-list" }, evidence.map(function (ev) {
        var words = ev.shared_words || [];
        return el("li", { class: "evidence-item" }, [
          el("div", { class: "evidence-row" }, [
            el("span", { class: "evidence-label", text: "ข้อความในร่าง" }),
            el("q", { class: "evidence-draft" }, PA.highlightWords(ev.draft_text, words))
          ]),
          el("div", { class: "evidence-row" }, [
            el("span", { class: "evidence-label", text: "ตรงกับ" + PA.matchKind(ev.matched_kind) + (ev.matched_kind === "example" ? "" : "ในแผน") }),
            matchedText(ev.matched_text, words)
          ]),
          el("div", { class: "evidence-meta" }, [
            cosineWords(ev.similarity),
            words.length ? el("span", { class: "shared" }, ["คำที่ตรงกัน: ", words.map(function (w, i) {
              return [i ? " " : "", el("mark", { class: "chip" }, w)];
            })]) : null
          ])
        ]);
      }))
    ]);
  }

  function renderSuggestion(s, rank, names, review) {
    var path = (s.path || []).map(function (id) { return names[id] ? id + " " + names[id] : id; });
    return el("article", { class: "suggestion" + (rank === 0 ? " top" : ""), dataset: { nodeId: s.node_id, level: s.level } }, [
      el("header", { class: "suggestion-head" }, [
        el("span", { class: "rank", text: String(rank + 1), role: "img", "aria-label": "อันดับ " + (rank + 1) }),
        el("div", { class: "suggestion-title" }, [
          el("h4", null, [el("span", { class: "node-id", text: s.node_id }), " ", s.name]),
          path.length > 1 ? el("p", { class: "path", text: path.join(" › ") }) : null
        ]),
        rank === 0 && review ? el("span", { class: "badge needs-review", text: "ควรให้ผู้รู้ตรวจสอบ",
          title: "ความมั่นใจต่ำ หรือข้อความไม่ค่อยตรงกับแผน" }) : null
      ]),
      PA.confidenceBar(s.confidence, "ความมั่นใจของ " + s.node_id),
      renderEvidence(s.evidence, rank === 0),
      el("div", { class: "decision-actions" }, el("button", { type: "button", class: "btn btn-small accept-suggestion", "aria-pressed": "false",
        text: "ใช้ข้อเสนอนี้", title: "บันทึกว่าโครงการนี้สอดคล้องกับ " + s.node_id + " ระบบจะเรียนรู้จากการตัดสินใจนี้",
        onclick: function () { decide({ id: s.node_id, name: s.name, level: s.level }); } }))
    ]);
  }

  /* The draft as the API aligned it (AlignRequest.draft): text, name, objective, target, one per line. */
  var last = null; // {draft, fields, catalog, top: {level: suggestion}}

  function draftFields(form) {
    return [form.text, form.name, form.objective, form.target, form.catalog].map(function (f) { return f.value.trim(); }).join("\u0000");
  }

  /* Results stay beside a draft edited after it was sent (while the answer was on the way, or after): the
     page says they are the earlier text's, so "ใช้ข้อเสนอนี้" is not taken for a decision on the new one. */
  function markStale(form) {
    var note = document.getElementById("stale-note");
    if (note) note.hidden = !last || draftFields(form) === last.fields;
  }

  var saving = false; // a decision on its way: a double click sent two, and said the first was "already recorded" (a walkthrough)

  function decide(node) {
    if (!last || saving) return;
    saving = true;
    var decided = last;  // a newer draft may be sent before the answer: it must not mark the new draft's cards
    var status = document.getElementById("decision-status");
    var top = last.top[node.level] || {};
    PA.setStatus(status, "กำลังบันทึก…", "busy");
    window.PAD.record({ text: last.draft, node_id: node.id, level: node.level, catalog: last.catalog, suggested: top.node_id || null,
                        suggested_confidence: top.node_id ? top.confidence : null, source: "planner" })
      .finally(function () { saving = false; })
      .then(function (answer) {
        if (last !== decided) return;
        var shown = false;
        document.querySelectorAll('#suggestions .suggestion[data-level="' + attr(node.level) + '"]').forEach(function (card) {
          card.classList.toggle("chosen", card.dataset.nodeId === node.id);
          var use = card.querySelector(".accept-suggestion");  // the choice said to a screen reader too, not only by a border and a tick
          if (use) use.setAttribute("aria-pressed", String(card.dataset.nodeId === node.id));
          shown = shown || card.dataset.nodeId === node.id;
        });
        /* A node picked from the tree that is not among the suggestions: said in its level, not only in the
           status line (a walkthrough saw no card marked and took the top suggestion for the answer). */
        var section = document.querySelector('#suggestions section.level[data-level="' + attr(node.level) + '"]');
        var old = section && section.querySelector(".picked");
        if (old) old.remove();
        if (section && !shown) {
          section.insertBefore(el("p", { class: "picked status ok", dataset: { nodeId: node.id },
            text: "เลือกแล้ว: " + node.id + " " + (node.name || "") + " (ไม่อยู่ในข้อเสนอด้านล่าง ข้อเสนอจะเปลี่ยนเมื่อวิเคราะห์ร่างนี้อีกครั้ง)" }),
            section.querySelector(".suggestion") || null);
        }
        // the mark in view: after a pick from the tree it was above or below the screen (a browser walkthrough)
        var mark = section && (section.querySelector(".picked") || section.querySelector(".suggestion.chosen"));
        if (mark && mark.scrollIntoView) mark.scrollIntoView({ block: "nearest" });
        var words = answer.stored ? "บันทึกแล้ว: " : "ตรงกับที่บันทึกไว้แล้ว: ";
        var said = words + node.id + " " + (node.name || "") + (answer.stored ? " · ระบบจะเรียนรู้จากการตัดสินใจนี้ภายในไม่กี่วินาที" : "");
        PA.setStatus(status, said, "ok");
        offerUndo(decided, node, (answer.decisions || [])[0]);
        /* A choice at another level off this node's path (dimension D4, then issue D1.4) contradicts it: the
           newest decision counts, so the older mark goes and the page says so (both stayed marked: a walkthrough). */
        /* only when this decision was stored: one equal to the text's active label is not, and the other level's
           newer decision then still counts (the page said otherwise: a blind review) */
        var marks = !answer.stored ? [] : Array.prototype.filter.call(
          document.querySelectorAll("#suggestions .suggestion.chosen, #suggestions .picked"), function (mark) {
            return (mark.dataset.level || mark.closest("section.level").dataset.level) !== node.level;
          });
        return Promise.all(marks.map(function (mark) { return window.PAD.onOnePath(decided.catalog, node.id, mark.dataset.nodeId); })).then(function (fits) {
          if (last !== decided) return;
          var dropped = marks.filter(function (mark, i) { return !fits[i]; });
          dropped.forEach(function (mark) { if (mark.classList.contains("picked")) mark.remove(); else mark.classList.remove("chosen"); });
          if (dropped.length) {
            PA.setStatus(status, said + " · แทนการเลือก " + dropped.map(function (m) { return m.dataset.nodeId; }).join(", ") +
              " ที่ไม่อยู่ในสายเดียวกัน (ระบบใช้การตัดสินใจล่าสุด)", "ok");
          }
        });
      })
      .catch(function (err) { PA.setStatus(status, err.message || String(err), "error"); });
  }

  /* A decision taken by mistake is taken back here: the API withdraws it (the history keeps both; the text's label is
     then its newest decision still standing), and the page marks what stands now. */
  function offerUndo(decided, node, stored, text) {
    var old = document.getElementById("undo-decision");
    // a choice already standing is "unchanged": the undo offered stays, for the newest decision it names (it went, and
    // the newest could no longer be taken back: two blind reviews)
    if (!stored || !stored.id) return;
    if (old) old.remove();
    var status = document.getElementById("decision-status");
    var undo = el("button", { type: "button", class: "link-button", id: "undo-decision", text: text || "ยกเลิกการตัดสินใจนี้",
      "aria-label": "ยกเลิกการตัดสินใจ " + node.id + " ของร่างนี้", dataset: { nodeId: node.id, level: node.level } });
    undo.addEventListener("click", function () {
      if (last !== decided || saving) return;
      saving = true;
      undo.disabled = true;
      PA.setStatus(status, "กำลังยกเลิก…", "busy");
      PA.api("/v1/decisions/" + encodeURIComponent(stored.id) + "?source=planner", { method: "DELETE" })
        .finally(function () { saving = false; })
        .then(function (answer) {
          if (last !== decided) return;
          undo.remove();
          document.querySelectorAll("#suggestions .picked").forEach(function (mark) { mark.remove(); });
          /* the labels still standing at other levels are marked as they count now: one this decision had
             replaced (off its path, older) counts again */
          var standing = answer.still_active || [];
          document.querySelectorAll("#suggestions .suggestion").forEach(function (card) {
            var chosen = standing.some(function (d) { return d.level === card.dataset.level && d.node_id === card.dataset.nodeId; });
            card.classList.toggle("chosen", chosen);
            var use = card.querySelector(".accept-suggestion");
            if (use) use.setAttribute("aria-pressed", String(chosen));
          });
          // a label standing that is not among its level's suggestions (picked from the tree) is said in its level again
          standing.forEach(function (d) {
            var section = document.querySelector('#suggestions section.level[data-level="' + attr(d.level) + '"]');
            if (!section || section.querySelector('.suggestion[data-node-id="' + attr(d.node_id) + '"]')) return;
            section.insertBefore(el("p", { class: "picked status ok", dataset: { nodeId: d.node_id }, text: "เลือกแล้ว: " + d.node_id }),
                                 section.querySelector(".suggestion") || null);
          });
          PA.focusIfLost(status);  // the clicked button is gone: focus stays on what it said (it fell to the page)
          var here = standing.filter(function (d) { return d.level === node.level; })[0];
          PA.setStatus(status, "ยกเลิกแล้ว: ระบบจะไม่เรียนรู้จาก " + node.id + " สำหรับร่างนี้อีก · " +
            (here ? "ระดับ" + PA.levelName(node.level) + "กลับไปใช้ " + here.node_id + " ที่ตัดสินไว้ก่อนหน้า"
                  : "ร่างนี้ไม่มีหัวข้อที่เลือกไว้ในระดับ" + PA.levelName(node.level)) +
            (standing.length ? " · ที่มีผลตอนนี้: " +
            standing.map(function (d) { return d.node_id + " (ระดับ" + PA.levelName(d.level) + ")"; }).join(", ") : ""), "ok");
          /* the newest label standing is the next to take back, if this page made it (as on opening a decided draft):
             it could be undone only after aligning the draft again */
          var next = standing.reduce(function (a, b) { return !a || b.id > a.id ? b : a; }, null);
          if (next && next.source === "planner") {
            offerUndo(decided, { id: next.node_id, level: next.level }, { id: next.id },
                      "ยกเลิก " + next.node_id + " (ระดับ" + PA.levelName(next.level) + ") ด้วย");
          }
        })
        .catch(function (err) { undo.disabled = false; PA.setStatus(status, err.message || String(err), "error"); });
    });
    status.parentNode.insertBefore(undo, status.nextSibling);
  }

  function pickOther(level) {
    if (!last) return;
    var top = last.top[level] || {};
    window.PAD.pick({ catalog: last.catalog, level: level, current: top.node_id, title: "เลือก" + PA.levelName(level) + "ที่สอดคล้อง" })
      .then(function (node) { if (node) decide(node); })
      .catch(function (err) { PA.setStatus(document.getElementById("decision-status"), err.message || String(err), "error"); });
  }

  /* The previous draft's results leave the page once another draft is sent: they stayed beside an
     error about the new one, and "ใช้ข้อเสนอนี้" recorded the old suggestion for the old text. */
  function clearResults(message, kind) {
    last = null;
    var box = PA.clear(document.getElementById("suggestions"));
    box.appendChild(el("p", { class: kind === "error" ? "status error" : "muted", text: message }));  // #align-status announces it
    ["warnings", "neighbours", "duplicates-box"].forEach(function (id) { document.getElementById(id).hidden = true; });
  }

  /* A ragged catalog: the draft's best path ends at a node without children above this level (an issue
     without goals), so this level's suggestions come from other branches (a catalog author's walkthrough). */
  function endsAboveNote(level, nodeId, names) {
    if (!nodeId) return null;
    var node = names[nodeId] ? nodeId + " " + names[nodeId] : nodeId;
    return el("p", { class: "status warn ends-above", role: "note",
      text: "หัวข้อที่ตรงที่สุด (" + node + ") ไม่มีหัวข้อย่อยในระดับ" + PA.levelName(level) +
            " ข้อเสนอด้านล่างมาจากหัวข้ออื่นในแคตตาล็อก กรุณาตรวจสอบก่อนใช้" });
  }

  function render(data, names) {
    var box = document.getElementById("suggestions");
    PA.clear(box);
    var levels = data.levels || {};
    var order = Object.keys(levels);
    if (!order.length) box.appendChild(el("p", { class: "muted", text: "ไม่พบข้อเสนอ" }));
    box.appendChild(el("p", { class: "model-info muted small", id: "model-info", dataset: { version: data.model_version || 0, examples: data.examples || 0, learned: String(Boolean(data.learned)) },
                              text: window.PAD.modelWords(data.model_version, data.examples, data.learned) }));
    box.appendChild(el("p", { id: "decision-status", class: "status", role: "status", "aria-live": "polite" }));
    box.appendChild(el("p", { id: "stale-note", class: "status error", role: "status", hidden: true,
      text: "ร่างถูกแก้ไขหลังส่งวิเคราะห์ ข้อเสนอด้านล่างเป็นของร่างก่อนแก้ไข (และ “ใช้ข้อเสนอนี้” จะบันทึกให้ร่างนั้น) กด “วิเคราะห์ความสอดคล้อง” อีกครั้งเพื่อวิเคราะห์ร่างใหม่" }));
    order.forEach(function (level) {
      var list = levels[level] || [];
      box.appendChild(el("section", { class: "level", dataset: { level: level } }, [
        el("div", { class: "level-title" }, [el("h3", { text: PA.levelName(level) }),
          el("button", { type: "button", class: "link-button pick-other", text: "เลือกหัวข้ออื่น…", dataset: { level: level },
                         "aria-label": "เลือกหัวข้ออื่นในระดับ" + PA.levelName(level), onclick: function () { pickOther(level); } })]),
        endsAboveNote(level, (data.ends_above || {})[level], names),
        list.length ? list.map(function (s, i) { return renderSuggestion(s, i, names, (data.needs_review || {})[level]); })
          : el("p", { class: "muted", text: "ไม่มีข้อเสนอในระดับนี้" })
      ]));
    });

    var warnings = document.getElementById("warnings");
    PA.clear(warnings);
    warnings.hidden = !(data.warnings && data.warnings.length);
    if (!warnings.hidden) {
      warnings.appendChild(el("strong", { text: "คำเตือน" }));
      warnings.appendChild(el("ul", null, (data.warnings_th || data.warnings).map(function (w) { return el("li", { text: w }); })));
    }

    var neighbours = document.getElementById("neighbours");
    PA.clear(neighbours);
    neighbours.hidden = !(data.neighbours && data.neighbours.length);
    if (!neighbours.hidden) {
      neighbours.appendChild(el("section", { class: "subsection" }, [
        el("h3", { text: "โครงการตัวอย่างที่ใกล้เคียง" }),
        el("ul", { class: "plain-list" }, data.neighbours.map(function (n) {
          return el("li", null, [
            el("span", { text: n.text }), " ",
            el("span", { class: "badge", text: (n.labels || []).map(function (id) { return names[id] ? id + " " + names[id] : id; }).join(", ") }), " ",  // an id alone said little (a walkthrough)
            el("span", { class: "muted" }, cosineWords(n.similarity))
          ]);
        }))
      ]));
    }

    var dupBox = document.getElementById("duplicates-box");
    var dupList = PA.clear(document.getElementById("duplicates"));
    var dups = data.duplicates || [];
    dupBox.hidden = false;
    if (!dups.length) {
      dupList.appendChild(el("li", { class: "muted", text: "ไม่พบโครงการที่คล้ายกันในระบบ" }));
    }
    /* Duplicates first (a re-submission, the same project in other words), then related projects
       (same theme, another place or quantity), each with the fields that match and differ. The first
       DUPLICATES_SHOWN only, and a button for the rest: a draft like a line every district budgets
       listed 114 entries and made the page 14,000 pixels tall (a walkthrough). */
    function item(d) {
      var others = d.copies || [];
      return el("li", { class: "duplicate", dataset: { id: d.id, kind: d.decision.kind } }, [
        el("div", { class: "duplicate-head" }, [
          el("strong", { text: d.name }),
          el("span", { class: "badge kind-" + d.decision.kind, text: PA.kindThai(d.decision.kind) })
        ]),
        el("div", { class: "muted" }, [d.org ? d.org + " · " : "", d.year ? "ปีงบประมาณ " + d.year + " · " : "",
          d.budget ? "งบประมาณ " + PA.formatNumber(Math.round(d.budget)) + " บาท · " : "",
          PA.decisionScore(d.decision) ? PA.decisionScore(d.decision) + " · " : "", "รหัส ",
          el("a", { href: "/review?q=" + encodeURIComponent(d.name), title: "เปิดในหน้าค้นหาโครงการ", text: d.id }),
          others.length ? el("span", { title: others.map(function (o) { return o.org ? o.org + " (" + o.id + ")" : o.id; }).join(", "),
                                       text: " · ชื่อเดียวกันอีก " + PA.formatNumber(others.length) + " รายการ: " +
                                             others.slice(0, 5).map(function (o) { return o.org || o.id; }).join(", ") +
                                             (others.length > 5 ? " …" : "") }) : null]),
        el("div", { class: "why" }, PA.decisionEvidence(d.decision))
      ]);
    }
    /* The same name with the same answer comes as one entry naming the others (copies): a line every
       district budgets was 50 entries of one text (a walkthrough). */
    dups.slice(0, DUPLICATES_SHOWN).forEach(function (d) { dupList.appendChild(item(d)); });
    if (dups.length > DUPLICATES_SHOWN) {
      var rest = dups.slice(DUPLICATES_SHOWN);
      var rows = function (list) { return list.reduce(function (n, d) { return n + 1 + (d.copies || []).length; }, 0); };
      var same = rows(dups.filter(function (d) { return d.decision.kind !== "related"; }));
      var more = el("li", { id: "duplicates-more", class: "muted" }, [
        "แสดง " + DUPLICATES_SHOWN + " จาก " + PA.formatNumber(dups.length) + " ชื่อ (" + PA.formatNumber(rows(dups)) +
          " รายการ ในนั้นซ้ำหรือเป็นโครงการเดียวกัน " + PA.formatNumber(same) + ") ",
        el("button", { type: "button", class: "secondary", text: "แสดงทั้งหมด", onclick: function () {
          more.remove();
          rest.forEach(function (d) { dupList.appendChild(item(d)); });
        } })
      ]);
      dupList.appendChild(more);
    }
    markDecided(data.decided || [], names || {});
  }

  /* A draft decided before says so where its suggestions are: its labels marked (or named in their level when not
     among the suggestions), and the newest one can be taken back here (re-opened, it showed nothing of its decision:
     a planner's walkthrough). */
  function markDecided(decided, names) {
    if (!decided.length || !last) return;
    decided.forEach(function (d) {
      var card = document.querySelector('#suggestions .suggestion[data-level="' + attr(d.level) + '"][data-node-id="' + attr(d.node_id) + '"]');
      var section = document.querySelector('#suggestions section.level[data-level="' + attr(d.level) + '"]');
      if (card) {
        card.classList.add("chosen");
        var use = card.querySelector(".accept-suggestion");
        if (use) use.setAttribute("aria-pressed", "true");
      } else if (section) {
        section.insertBefore(el("p", { class: "picked status ok", dataset: { nodeId: d.node_id },
                                       text: "เลือกไว้แล้ว: " + d.node_id + (names[d.node_id] ? " " + names[d.node_id] : "") }),
                             section.querySelector(".suggestion") || null);
      }
    });
    var newest = decided.reduce(function (a, b) { return b.id > a.id ? b : a; });
    /* whose decision it is, and from where; the page takes back the planner page's own only (a form's declaration or
       an imported file's label was withdrawn with one click here, unsaid: a blind review): the others on the
       evaluation page's list of decisions */
    var own = newest.source === "planner";
    PA.setStatus(document.getElementById("decision-status"), "ร่างนี้ตัดสินไว้แล้ว: " + decided.map(function (d) {
      return d.node_id + " (ระดับ" + PA.levelName(d.level) + " · " + PA.sourceThai(d.source) + " · " + PA.whoThai(d.who) + ")";
    }).join(", ") + (own ? "" : " · ยกเลิกได้ที่หน้าประเมินผล ส่วน “การตัดสินใจที่บันทึกไว้”"), "ok");
    if (own) offerUndo(last, { id: newest.node_id, level: newest.level }, { id: newest.id });
  }

  function submit(event) {
    event.preventDefault();
    var form = event.target;
    var status = document.getElementById("align-status");
    var body = {
      text: form.text.value.trim() || null,
      name: form.name.value.trim() || null,
      objective: form.objective.value.trim() || null,
      target: form.target.value.trim() || null,
      catalog: form.catalog.value || null,
      top_k: parseInt(form.top_k.value, 10) || 3,
      check_duplicates: true
    };
    if (!body.text && !body.name && !body.objective && !body.target) {
      PA.setStatus(status, "กรุณากรอกร่างโครงการ หรือชื่อโครงการ/วัตถุประสงค์/เป้าหมาย อย่างน้อยหนึ่งช่อง", "error");
      PA.fieldError(form.text, status);
      return;
    }
    var button = document.getElementById("align-submit");
    button.disabled = true;
    PA.setStatus(status, "กำลังวิเคราะห์…", "busy");
    clearResults("กำลังวิเคราะห์…");
    var fields = draftFields(form);
    var catalogId = body.catalog || document.body.dataset.defaultCatalog;
    Promise.all([PA.api("/v1/align", { method: "POST", json: body }), loadNames(catalogId)])
      .then(function (results) {
        var top = {};
        Object.keys(results[0].levels || {}).forEach(function (level) { top[level] = (results[0].levels[level] || [])[0]; });
        last = { draft: [body.text, body.name, body.objective, body.target].filter(Boolean).join("\n"), fields: fields, catalog: catalogId, top: top };
        render(results[0], results[1]);
        markStale(form);
        if (window.matchMedia && window.matchMedia("(max-width: 860px)").matches) {
          document.getElementById("result-heading").scrollIntoView({ behavior: "smooth", block: "start" });
        }
        return PA.catalogTitle(results[0].catalog).then(function (title) { PA.setStatus(status, "วิเคราะห์เสร็จแล้ว · " + title, "ok"); });
      })
      .catch(function (err) {
        PA.setStatus(status, err.message || String(err), "error");
        clearResults(err.message || String(err), "error");  // where the results were: the status line may be off-screen
      })
      .then(function () {
        button.disabled = false;
        PA.focusIfLost(document.getElementById("result-heading"));  // the keyboard goes on at the results
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("align-form");
    form.addEventListener("submit", submit);
    form.addEventListener("input", function () { markStale(form); });
    form.addEventListener("change", function () { markStale(form); });
    form.addEventListener("reset", function () {
      PA.setStatus(document.getElementById("align-status"), "");
      clearResults("ยังไม่มีผล กรอกร่างโครงการแล้วกด “วิเคราะห์ความสอดคล้อง”");
    });
    PA.loadCatalogs().catch(function (err) {
      PA.setStatus(document.getElementById("align-status"), err.message, "error");
    });
  });
})();
