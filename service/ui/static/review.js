/* Reviewer page: GET /v1/search with filters, facets and paging; GET /v1/duplicates clusters. */
(function () {
  "use strict";
  var PA = window.PA;
  var el = PA.el;

  var PAGE_SIZE = 10;
  var TYPING_PAUSE_MS = 400;
  var QUERY_SHOWN = 80;  // characters of the query the status line repeats
  var FACETS = [
    { key: "year", param: "year", input: "f-year", title: "ปีงบประมาณ" },
    { key: "district_group", param: "group", input: "f-group", title: "กลุ่มเขต" },
    { key: "dimension", param: "dimension", input: "f-dimension", title: "ด้าน" }
  ];
  var dimensionNames = {};
  var page = 1;
  var lastTotal = 0;

  function $(id) { return document.getElementById(id); }

  function params() {
    return {
      q: $("q").value.trim(),
      year: $("f-year").value.trim(),
      district: $("f-district").value.trim(),
      group: $("f-group").value,
      dimension: $("f-dimension").value,
      kind: $("f-kind").value,
      mode: $("f-mode").value,
      page: page,
      page_size: PAGE_SIZE
    };
  }

  function ensureOption(select, value, label) {
    for (var i = 0; i < select.options.length; i++) if (select.options[i].value === value) return;
    select.appendChild(el("option", { value: value, text: label || value }));
  }

  function setFilter(facet, value) {
    var input = $(facet.input);
    if (input.tagName === "SELECT") ensureOption(input, value, facet.key === "dimension" ? dimLabel(value) : value);
    input.value = input.value === value ? "" : value; // clicking the active value removes the filter
    page = 1;
    search();
  }

  function dimLabel(id) {
    return dimensionNames[id] ? id + " " + dimensionNames[id] : id;
  }

  function renderFacets(facets) {
    var box = PA.clear($("facets"));
    var current = params();
    FACETS.forEach(function (facet) {
      var counts = (facets && facets[facet.key]) || {};
      var values = Object.keys(counts);
      var group = el("div", { class: "facet" }, el("h3", { text: facet.title }));
      if (!values.length) group.appendChild(el("p", { class: "muted small", text: "—" }));
      else group.appendChild(el("ul", { class: "facet-list" }, values.map(function (value) {
        var active = String(current[facet.param]) === value;
        var label = facet.key === "dimension" ? dimLabel(value) : value;
        return el("li", null, el("button", {
          type: "button", class: "facet-value" + (active ? " active" : ""), "aria-pressed": active ? "true" : "false",
          title: active ? "คลิกเพื่อยกเลิกตัวกรองนี้" : "คลิกเพื่อกรองเฉพาะ " + label,
          dataset: { facet: facet.key, value: value },
          onclick: function () { setFilter(facet, value); }
        }, [el("span", { class: "facet-label", text: label }), el("span", { class: "count", text: PA.formatNumber(counts[value]) })]));
      })));
      box.appendChild(group);
    });
  }

  /* Sorted years as runs, as the CLI says them: 2560, 2565-2567 ("2560-2567" read as eight years). */
  function yearRuns(years) {
    var runs = [];
    years.forEach(function (year) {
      var last = runs[runs.length - 1];
      if (last && year === last[1] + 1) last[1] = year; else runs.push([year, year]);
    });
    return runs.map(function (run) { return run[0] === run[1] ? String(run[0]) : run[0] + "-" + run[1]; }).join(", ");
  }

  /* How far a collapsed line goes (the hit shows its first row's office and year), as the CLI says it. */
  function copiesSpread(r) {
    var years = r.copies_years || [], parts = [];
    if ((r.copies_orgs || 0) > 1) parts.push(PA.formatNumber(r.copies_orgs) + " หน่วยงาน");
    if (years.length) parts.push("ปีงบประมาณ " + yearRuns(years));
    return parts.length ? " (" + parts.join(", ") + ")" : "";
  }

  /* What a search lists, in Thai, by the kind chosen ("ไม่พบโครงการ" for reports read wrong: a walkthrough). */
  function kindWord(kind) {
    return kind === "report" ? "เรื่องที่ประชาชนแจ้ง" : kind === "all" ? "รายการ" : "โครงการ";
  }

  function renderResults(data) {
    var list = PA.clear($("results"));
    list.start = (data.page - 1) * data.page_size + 1;
    (data.results || []).forEach(function (r) {
      var meta = [];
      if (r.org) meta.push(r.org);
      if (r.district) meta.push("เขต" + r.district);
      if (r.district_group) meta.push(r.district_group);
      if (r.year) meta.push("ปีงบประมาณ " + r.year);
      if (r.budget) meta.push("งบประมาณ " + PA.formatNumber(Math.round(r.budget)) + " บาท");
      list.appendChild(el("li", { class: "result", dataset: { id: r.id } }, [
        el("div", { class: "result-head" }, [
          el("h3", { class: "result-title", text: r.name }),
          r.report ? el("span", { class: "badge badge-report", text: "เรื่องที่ประชาชนแจ้ง" }) : null,
          r.dimension_id ? el("span", { class: "badge", text: dimLabel(r.dimension_id) }) : null
        ]),
        el("p", { class: "result-meta" }, [meta.join(" · "), meta.length ? " · " : "", "รหัส ", el("code", { text: r.id }),
          (r.copies || []).length ? el("span", { class: "badge badge-copies", title: r.copies.slice(0, 60).join(", "),
                                                  text: "ข้อความเดียวกันอีก " + PA.formatNumber(r.copies.length) + " รายการ" + copiesSpread(r) }) : null]),
        el("p", { class: "snippet" }, PA.highlightSpans(r.snippet, r.highlights)),
        explanation(r)
      ]));
    });
    if (!(data.results || []).length) {
      list.appendChild(el("li", { class: "muted", text: data.page > 1 ? "ไม่มีผลเพิ่มเติม" : "ไม่พบ" + kindWord($("f-kind").value) + "ที่ตรงกับคำค้นและตัวกรอง" }));
    }

    lastTotal = data.total || 0;
    /* total counts the relevant hits only; the ranking goes on with weaker ones (marked "เกี่ยวข้องน้อย"),
       so a full page may have a next one: paging stopped at the relevant count and hid everything after
       the first page when few hits passed the floor ("ชุมชน": 6 relevant, 124 containing the word). */
    var pages = Math.max(1, Math.ceil(lastTotal / data.page_size));
    $("pager").hidden = data.page <= 1 && !data.more;
    $("page-info").textContent = "หน้า " + data.page + (data.page <= pages && lastTotal > data.page_size ? " จาก " + pages : "") +
      (data.more && lastTotal > 0 && data.page === pages ? " (หน้าถัดไปเป็นผลที่เกี่ยวข้องน้อยลง)" : "");  // where the relevant hits end, not on the weaker pages after
    $("prev-page").disabled = data.page <= 1;
    $("next-page").disabled = !data.more;
  }

  /* A coarse relevance word a person understands, never the raw fused score: a hit above the relevance
     floor that both contains the query's words and means the same is "เกี่ยวข้องมาก", one of the two
     "เกี่ยวข้อง", a hit under the floor "เกี่ยวข้องน้อย". */
  function relevanceWord(r) {
    if (!r.relevant) return { key: "weak", text: "เกี่ยวข้องน้อย" };
    return (r.why || []).length > 1 ? { key: "high", text: "เกี่ยวข้องมาก" } : { key: "mid", text: "เกี่ยวข้อง" };
  }

  /* Why a hit is shown ("ตรงคำค้น", "ความหมายใกล้เคียง") and how relevant it is, in words. */
  function explanation(r) {
    var labels = PA.explanationThai(r.why);
    var relevance = relevanceWord(r);
    var badges = [el("span", { class: "badge relevance relevance-" + relevance.key, text: relevance.text })];
    labels.forEach(function (label, i) { badges.push(el("span", { class: "badge why-" + r.why[i], text: label })); });
    // over the floor by words and meaning together, neither strong alone: it showed no reason (a walkthrough; format.py PARTLY_THAI)
    if (!labels.length && r.relevant) badges.push(el("span", { class: "badge why-partly", text: "ใกล้เคียงบางส่วน" }));
    return el("p", { class: "result-why small", dataset: { why: (r.why || []).join(" ") || "none", relevance: relevance.key } }, badges);
  }

  function syncUrl(p) {
    var keep = {};
    ["q", "year", "district", "group", "dimension"].forEach(function (k) { keep[k] = p[k]; });
    if (p.kind !== "project") keep.kind = p.kind;
    if (p.mode !== "hybrid") keep.mode = p.mode;
    if (p.page > 1) keep.page = p.page;
    try { history.replaceState(null, "", location.pathname + PA.query(keep)); } catch (e) { /* file: */ }
  }

  var searchRequest = 0; // only the newest search may fill the page (an older, slower answer is dropped)
  var paging = false; // a search of a page is on its way (the pager waits for it)
  var typed = null; // the pending search of a typed filter

  function searchAgain() {
    if ($("q").value.trim()) { page = 1; search(); }
  }

  /* A part of the query in no stored name, spelt as the names spell it ("ลอกท่อระบายนำ" -> "ลอกท่อระบายน้ำ"): a link that searches it. */
  function showDidYouMean(spelling) {
    var box = PA.clear($("did-you-mean"));
    box.hidden = !spelling;
    if (!spelling) return;
    box.appendChild(document.createTextNode("หมายถึง: "));
    box.appendChild(el("a", { href: "#", id: "did-you-mean-link", text: spelling, onclick: function (event) {
      event.preventDefault();
      $("q").value = spelling;
      searchAgain();
    } }));
    box.appendChild(document.createTextNode(" ?"));
  }

  function search() {
    clearTimeout(typed);
    var token = ++searchRequest;
    var p = params();
    var status = $("search-status");
    if (!p.q) {
      PA.setStatus(status, "กรุณาพิมพ์คำค้นหา", "error");
      PA.fieldError($("q"), status);
      return Promise.resolve();
    }
    PA.setStatus(status, "กำลังค้นหา…", "busy");
    syncUrl(p);
    paging = true;
    return PA.api("/v1/search" + PA.query(p)).then(function (data) {
      if (token !== searchRequest) return;
      paging = false;
      renderFacets(data.facets);
      renderResults(data);
      // total counts the hits above the relevance floor (not the candidates ranked), so the number is honest
      var what = kindWord(p.kind);
      // identical texts are one hit: the rows behind them said too ("พบ 1 โครงการ" for a line 50 districts budget read as one)
      var rows = data.total_rows && data.total_rows > data.total ? " (" + PA.formatNumber(data.total_rows) + " รายการ นับข้อความเดียวกันทุกหน่วยงาน)" : "";
      // the ranking goes on past the relevant hits: said, or "พบ 7" beside a page of 10 read as a wrong count (a walkthrough)
      var weaker = (data.results || []).some(function (r) { return !r.relevant; }) ? " ต่อจากนั้นเป็นรายการที่เกี่ยวข้องน้อยลง" : "";
      // a pasted draft of 2,000 characters was repeated whole in the status line (a committee walkthrough)
      var asked = data.query.length > QUERY_SHOWN ? data.query.slice(0, QUERY_SHOWN) + "…" : data.query;
      var found = data.total ? "พบ " + PA.formatNumber(data.total) + " " + what + "ที่เกี่ยวข้องกับ “" + asked + "”" + rows + weaker
        : ((data.results || []).length ? "ไม่พบ" + what + "ที่ตรงคำค้น “" + asked + "” — รายการใกล้เคียงที่สุด"
          : "ไม่พบ" + what + "ที่ตรงคำค้น “" + asked + "”");
      PA.setStatus(status, data.hint ? found + " — " + data.hint : found, "ok");  // an empty store, a query of no known word
      showDidYouMean(data.did_you_mean);
    }).catch(function (err) {
      if (token !== searchRequest) return;
      paging = false;
      PA.clear($("results"));
      showDidYouMean(null);
      $("pager").hidden = true;
      PA.setStatus(status, err.message, "error");
    });
  }

  function renderClusters(data, offset) {  // offset: clusters already shown (the next page is appended)
    var box = offset ? $("clusters") : PA.clear($("clusters"));
    var more = $("clusters-more");
    if (more) more.remove();
    var clusters = data.clusters || [];
    if (!clusters.length && !offset) {
      box.appendChild(el("p", { class: "muted", text: "ไม่พบกลุ่มโครงการที่ซ้ำซ้อน" }));
      return;
    }
    clusters.forEach(function (c, k) {
      var i = offset + k;
      var byId = {};
      (c.members || []).forEach(function (m) { byId[m.id] = m; });
      var orgs = [];
      (c.members || []).forEach(function (m) { if (m.org && orgs.indexOf(m.org) < 0) orgs.push(m.org); });
      box.appendChild(el("details", { class: "cluster", open: i === 0 }, [
        el("summary", null, [
          el("strong", { text: "กลุ่มที่ " + (i + 1) }), " · ", c.size + " โครงการ", c.name ? [" · ", el("span", { text: c.name })] : null,
          orgs.length ? el("span", { class: "muted", text: " · " + orgs.slice(0, 4).join(", ") + (orgs.length > 4 ? " …" : "") }) : null
        ]),
        el("div", { class: "table-wrap" }, el("table", { class: "table" }, [
          el("thead", null, el("tr", null, ["รหัส", "ชื่อโครงการ", "หน่วยงาน", "ปี"].map(function (h) {
            return el("th", { scope: "col", text: h });
          }))),
          el("tbody", null, (c.members || []).map(function (m) {
            return el("tr", null, [el("td", null, el("code", { text: m.id })), el("td", { text: m.name }),
              el("td", { text: m.org || "" }), el("td", { text: m.year || "" })]);
          }))
        ])),
        (c.pairs || []).length ? el("details", { class: "pairs-box" }, [
          // how many there are, not how many came (the API lists 200, the page shows 50: 50 copies of a line are 1,225 pairs)
          el("summary", { text: "คู่ที่คล้ายกัน (ทั้งหมด " + PA.formatNumber(c.pairs_total || c.pairs.length) + " คู่" +
            ((c.pairs_total || c.pairs.length) > Math.min(50, c.pairs.length) ? " แสดง " + Math.min(50, c.pairs.length) + " คู่แรก" : "") + ")" }),
          el("ul", { class: "pairs" }, c.pairs.slice(0, 50).map(function (p) {
            var a = byId[p.id_a], b = byId[p.id_b];
            // the two names and the number that decided, as the CLI's file says them: ids alone told a reviewer nothing (a walkthrough)
            return el("li", { class: "pair", dataset: { kind: p.decision.kind } }, [
              el("div", null, [
                el("code", { text: p.id_a }), " ", el("span", { text: a ? a.name : "" }), " ↔ ",
                el("code", { text: p.id_b }), " ", el("span", { text: b ? b.name : "" }), " ",
                el("span", { class: "badge kind-" + p.decision.kind, text: PA.kindThai(p.decision.kind) }), " ",
                el("span", { class: "muted", text: PA.decisionScore(p.decision) })
              ]),
              PA.decisionEvidence(p.decision)
            ]);
          }))
        ]) : null,
        (c.links || []).length ? el("details", { class: "pairs-box" }, [
          el("summary", { text: "คล้ายกับโครงการนอกกลุ่ม (ทั้งหมด " + PA.formatNumber(c.links_total || c.links.length) + " คู่" +
            ((c.links_total || c.links.length) > Math.min(50, c.links.length) ? " แสดง " + Math.min(50, c.links.length) + " คู่แรก" : "") +
            ": คู่ที่คล้ายกันระหว่างสองฝ่ายมีไม่ถึงครึ่ง จึงไม่รวมเป็นกลุ่มเดียวกัน)" }),
          el("ul", { class: "pairs" }, c.links.slice(0, 50).map(function (p) {
            var o = p.outside, mine = o.id === p.id_a ? p.id_b : p.id_a;
            return el("li", { class: "pair", dataset: { kind: p.decision.kind } }, [
              el("div", null, [
                el("code", { text: mine, title: byId[mine] ? byId[mine].name : null }), " ↔ ", el("code", { text: o.id }), " ",
                el("span", { text: o.name + (o.org ? " · " + o.org : "") }), " ",
                el("span", { class: "muted", text: p.outside_cluster ? "(อยู่ในกลุ่มอื่น)" : "(ไม่อยู่ในกลุ่มใด)" }), " ",
                el("span", { class: "badge kind-" + p.decision.kind, text: PA.kindThai(p.decision.kind) }), " ",
                el("span", { class: "muted", text: PA.decisionScore(p.decision) })
              ]),
              PA.decisionEvidence(p.decision)
            ]);
          }))
        ]) : null
      ]));
    });
    var shown = offset + clusters.length;
    if (data.total_clusters > shown) {
      box.appendChild(el("p", { id: "clusters-more", class: "muted" }, [
        "แสดง " + PA.formatNumber(shown) + " จาก " + PA.formatNumber(data.total_clusters) + " กลุ่ม ",
        el("button", { type: "button", class: "btn btn-small", text: "แสดงเพิ่ม", onclick: function (event) {
          event.target.disabled = true;  // one click, one page
          loadClusters(null, shown);
        } })
      ]));
    }
  }

  var clusterQuery = null, clusterRequest = 0;  // the search the shown clusters answer; the newest request wins
  function loadClusters(event, offset) {
    if (event) event.preventDefault();
    offset = offset || 0;
    if (!offset || !clusterQuery) {  // a new search reads the form; "more" keeps the search it continues
      clusterQuery = { year: $("d-year").value.trim(), across_districts: $("d-across").value, limit: 50 };
    }
    var token = ++clusterRequest;
    var status = $("dup-status");
    PA.setStatus(status, "กำลังตรวจหาโครงการซ้ำซ้อน…", "busy");
    PA.api("/v1/duplicates" + PA.query(Object.assign({}, clusterQuery, { offset: offset || "" }))).then(function (data) {
      if (token !== clusterRequest) return;
      renderClusters(data, offset);
      PA.setStatus(status, data.total_clusters ? "พบ " + PA.formatNumber(data.total_clusters) + " กลุ่ม" : "", "ok");
    }).catch(function (err) {
      if (token !== clusterRequest) return;
      if (!offset) PA.clear($("clusters"));  // a failed next page keeps the clusters already shown
      var more = $("clusters-more");
      if (more) more.querySelector("button").disabled = false;
      PA.setStatus(status, err.message, "error");
    });
  }

  function loadDimensions() {
    var catalogId = document.body.dataset.defaultCatalog;
    if (!catalogId) return Promise.resolve();
    return PA.api("/v1/catalogs/" + encodeURIComponent(catalogId)).then(function (data) {
      var select = $("f-dimension");
      (data.tree || []).forEach(function (n) {
        dimensionNames[n.id] = n.name;
        ensureOption(select, n.id, n.id + " " + n.name);
      });
    }).catch(function () { /* the filter still works with typed facet values */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("search-form").addEventListener("submit", function (e) { e.preventDefault(); page = 1; search(); });
    ["f-group", "f-dimension", "f-kind", "f-mode"].forEach(function (id) {
      $(id).addEventListener("change", searchAgain);
    });
    // typed filters search as one types (after a pause), not only on Enter
    ["f-year", "f-district"].forEach(function (id) {
      $(id).addEventListener("input", function () {
        clearTimeout(typed);
        // a year half typed ("25") is not searched as one types: it flashed "25 is no year" and wiped the results
        // (an accessibility audit); Enter still searches it and says what is wrong
        var year = $("f-year").value.trim();
        if (year && !/^\d{4}$/.test(year)) return;  // whichever field was typed in (a blind review)
        typed = setTimeout(searchAgain, TYPING_PAUSE_MS);
      });
    });
    $("clear-filters").addEventListener("click", function () {
      ["f-year", "f-district", "f-group", "f-dimension"].forEach(function (id) { $(id).value = ""; });
      $("f-mode").value = "hybrid";
      $("f-kind").value = "project";
      page = 1;
      if ($("q").value.trim()) search();
    });
    // one page a click while a page is on its way: a double click skipped page 2 (a walkthrough)
    // a page turned by keyboard goes on at the top of its results (focus stayed at the bottom, the new hits 1,200 px up: an accessibility audit)
    function turnPage(step) {
      if (!$("q").value.trim()) { search(); return; }  // nothing to page: say so, at the search box (a blind review)
      page += step;
      search().then(function () {
        var heading = $("results-heading");
        heading.setAttribute("tabindex", "-1");
        heading.focus({ preventScroll: false });
      });
    }
    $("prev-page").addEventListener("click", function () { if (page > 1 && !paging) turnPage(-1); });
    $("next-page").addEventListener("click", function () { if (!paging) turnPage(1); });
    $("dup-form").addEventListener("submit", loadClusters);

    var initial = new URLSearchParams(location.search);
    loadDimensions().then(function () {
      if (initial.get("q")) {
        $("q").value = initial.get("q");
        $("f-year").value = initial.get("year") || "";
        $("f-district").value = initial.get("district") || "";
        if (initial.get("group")) { ensureOption($("f-group"), initial.get("group")); $("f-group").value = initial.get("group"); }
        if (initial.get("dimension")) { ensureOption($("f-dimension"), initial.get("dimension")); $("f-dimension").value = initial.get("dimension"); }
        if (initial.get("mode")) $("f-mode").value = initial.get("mode");
        if (initial.get("kind")) $("f-kind").value = initial.get("kind");
        if (!$("f-kind").value) $("f-kind").value = "project";  // a kind the page does not offer (?kind=reports): projects, as the status says
        page = parseInt(initial.get("page"), 10) || 1;
        search();
      }
    });
    loadClusters();
  });
})();
