/* Strategy dashboard: GET /v1/coverage (per dimension and per issue), /v1/coverage/needs, /v1/coverage/items.
   Bars and the needs chart are SVG; the district heatmap is a table. All API text goes in as text. */
(function () {
  "use strict";
  var PA = window.PA;
  var el = PA.el;
  var SVG = "http://www.w3.org/2000/svg";
  var SOURCE_THAI = { declared: "ระบุในแบบฟอร์ม", decision: "ผู้ตรวจยืนยัน", mapped: "ตามหมวดเรื่องแจ้ง", predicted: "ระบบจับคู่",
                      above: "ไม่มีหัวข้อระดับนี้", none: "จัดไม่ได้", pending: "รอจัดเข้าหัวข้อ" };
  var NO_DISTRICT = "-";
  // top / second: the chosen catalog's first two levels ("dimension" / "issue" for BMA's): a plan whose levels are
  // named otherwise (ยุทธศาสตร์ / มาตรการ) was asked for "issue", refused, and the previous plan's figures stayed (a walkthrough)
  var state = { dimension: null, issue: null, needs: null, drill: null, top: "dimension", second: "issue" };

  /* The detail level: any level under the top one (a catalog's goals and OKRs were reachable only through the API
     and the CLI: a catalog author's walkthrough); the page's words follow the catalog's level names. */
  function chooseLevels(catalogs) {
    var chosen = ((catalogs && catalogs.catalogs) || []).filter(function (c) { return c.id === $("catalog").value; })[0];
    var levels = (chosen && chosen.levels) || ["dimension", "issue"];
    var detail = levels.length > 1 ? levels.slice(1) : levels;
    var select = $("d-level"), kept = select.value;
    PA.clear(select);
    detail.forEach(function (lv) { select.appendChild(el("option", { value: lv, text: levelWords(lv) })); });
    select.value = detail.indexOf(kept) >= 0 ? kept : detail[0];
    state.top = levels[0];
    state.second = select.value;
    $("bars-heading").textContent = "โครงการและงบประมาณราย" + levelWords(state.top);
    $("empty-heading").textContent = levelWords(state.second) + "ที่ยังไม่มีโครงการ";
    $("heat-heading").textContent = "โครงการรายเขต × " + levelWords(state.top);
  }
  function levelWords(level) { return level === "issue" ? "ประเด็นการพัฒนา" : PA.levelName(level); }

  function $(id) { return document.getElementById(id); }

  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = String(attrs[name]);
      else if (name.indexOf("on") === 0 && typeof attrs[name] === "function") node.addEventListener(name.slice(2), attrs[name]);
      else node.setAttribute(name, String(attrs[name]));
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function baht(n) {
    n = Number(n) || 0;
    if (n >= 1e6) return (n / 1e6).toLocaleString("th-TH", { maximumFractionDigits: n >= 1e8 ? 0 : 1 }) + " ล้านบาท";
    return n.toLocaleString("th-TH", { maximumFractionDigits: 0 }) + " บาท";
  }

  function count(n) { return PA.formatNumber(n || 0); }

  /* The filters live in the address, so a view can be shared or reloaded as it is (it stayed "/dashboard" whatever
     was chosen: a committee walkthrough). "year=all" is every year; a value no option has is left as the page chose. */
  var asked = new URLSearchParams(window.location.search);
  var ADDRESSED = [["year", "d-year"], ["group", "d-group"], ["catalog", "catalog"], ["metric", "d-metric"]];

  function choose(id, value) {
    var box = $(id);
    if (value !== null && Array.prototype.some.call(box.options, function (o) { return o.value === value; })) box.value = value;
  }

  function remember() {
    var q = {};
    ADDRESSED.forEach(function (pair) { q[pair[0]] = pair[0] === "year" && !$(pair[1]).value ? "all" : $(pair[1]).value; });
    history.replaceState(null, "", window.location.pathname + PA.query(q) + window.location.hash);
  }

  function params(extra) {
    var p = { year: $("d-year").value, catalog: $("catalog").value, group: $("d-group").value };
    Object.keys(extra || {}).forEach(function (k) { p[k] = extra[k]; });
    return p;
  }

  function metric() { return $("d-metric").value; }

  /* The not-aligned row is named by the API (index/coverage.py unaligned_name, as the exports name it): items a new
     catalog has not reached yet and items whose node above has no children at this level are said apart from those
     that cannot be aligned (a committee walkthrough; a catalog author's walkthrough). */
  function waiting(node) { return ((node.sources || {}).pending || 0) + ((node.report_sources || {}).pending || 0); }
  function nodeLabel(node) { return node.id ? node.id + " " + node.name : node.name; }
  function shortLabel(node) {  // a bar's name
    var sources = node.sources || {}, reports = node.report_sources || {};
    if (waiting(node)) return "ยังไม่ได้จัด";
    return (sources.none || reports.none) ? "จัดไม่ได้" : "ไม่มีหัวข้อระดับนี้";
  }

  /* ------------------------------------------------------------------ summary */
  function renderSummary(data, issues) {
    var box = PA.clear($("summary"));
    var empty = (issues.nodes || []).filter(function (n) { return n.id && n.projects === 0; }).length;
    var declared = 0;
    (data.nodes || []).forEach(function (n) { declared += (n.sources || {}).declared || 0; });
    var cards = [
      // every stored row counts: a budget ordinance read line by line brings its routine work lines too (a dashboard audit)
      ["โครงการและรายการ", count(data.total_projects), (data.total_projects ? "ทุกแถวที่นำเข้า รวมรายการงานประจำ · ระบุความสอดคล้องเอง " + PA.percent(declared / data.total_projects) : "") +
        (data.sample_projects ? " · ในนี้เป็นโครงการตัวอย่าง (ไม่ใช่ข้อมูลจริง) " + count(data.sample_projects) + " รายการ" : "") +
        // how sure the figures are: the system's low-confidence matches (a committee walkthrough)
        (data.uncertain_projects ? " · ระบบจับคู่ความมั่นใจต่ำ ควรตรวจ " + count(data.uncertain_projects) + " รายการ (" + baht(data.uncertain_budget) + ")" : "")],
      ["งบประมาณรวม", baht(data.total_budget), (data.previous_year ? "ปี " + data.previous_year + ": " + baht(sumOf(data.nodes, "previous_budget")) : "") +
        (data.projects_without_budget ? (data.previous_year ? " · " : "") + "ไม่ระบุงบประมาณ " + count(data.projects_without_budget) + " โครงการ (นับเป็น 0 บาท)" : "")],
      ["เรื่องที่ประชาชนแจ้ง", count(data.total_reports), data.year ? "Traffy Fondue ในปีงบประมาณเดียวกัน" : "Traffy Fondue ทุกปี"],
      [levelWords(state.second) + "ที่ยังไม่มีโครงการ", count(empty) + " / " + count((issues.nodes || []).filter(function (n) { return n.id; }).length), levelWords(state.second)]
    ];
    cards.forEach(function (c) {
      box.appendChild(el("div", { class: "metric" }, [
        el("div", { class: "metric-label", text: c[0] }), el("div", { class: "metric-value", text: c[1] }), el("div", { class: "metric-hint", text: c[2] })
      ]));
    });
    var all = (data.total_projects || 0) + (data.total_reports || 0);
    if (data.pending) PA.setStatus($("dash-status"), "กำลังจับคู่ข้อมูลอีก " + count(data.pending) + " รายการ " +
      (data.pending > 0.05 * all ? "ตัวเลขยังไม่ครบ รอสักครู่แล้วโหลดใหม่" : "ตัวเลขอาจเปลี่ยนเล็กน้อย"), "busy");
  }

  function sumOf(nodes, key) {
    return (nodes || []).reduce(function (s, n) { return s + (Number(n[key]) || 0); }, 0);
  }

  /* -------------------------------------------------------------------- bars */
  function renderBars(data) {
    var box = PA.clear($("bars"));
    var key = metric();
    var nodes = (data.nodes || []).filter(function (n) { return n.id || n.projects; });  // the not-aligned row only when it holds projects
    var max = Math.max.apply(null, nodes.map(function (n) { return n[key]; }).concat([1]));
    var rowH = 34, labelW = 190, valueW = 150, width = 720, barW = width - labelW - valueW;
    // a group, not an image: it holds a button a bar (an image's children are no controls to a screen reader: an accessibility audit)
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + (nodes.length * rowH + 8), class: "bars-svg", role: "group",
                             "aria-label": "แผนภูมิแท่ง" + (key === "budget" ? "งบประมาณ" : "จำนวนโครงการ") + "ราย" + levelWords(state.top) });
    nodes.forEach(function (n, i) {
      var y = i * rowH + 4;
      var total = n[key];
      // the dark part: what a form declared or a person decided; the light: what the system matched (people's decisions were drawn light: a walkthrough)
      var declaredShare = n.projects ? (((n.sources || {}).declared || 0) + ((n.sources || {}).decision || 0)) / n.projects : 0;
      var w = Math.max(total > 0 ? 2 : 0, barW * total / max);
      var previous = key === "budget" ? n.previous_budget : n.previous_projects;
      var change = previous === null || previous === undefined ? "" :
        " (" + (total >= previous ? "+" : "−") + (key === "budget" ? baht(Math.abs(total - previous)) : count(Math.abs(total - previous))) + ")";
      var said = nodeLabel(n) + ": " + (key === "budget" ? baht(total) : count(total) + " โครงการ") + change + " · ระบุในแบบฟอร์มหรือมีผู้ตัดสิน " +
        PA.percent(declaredShare) + " ที่เหลือระบบจัดให้ · กดเพื่อดูรายการ";  // the dark and light parts were told by shade alone
      var group = svg("g", { class: "bar-row", tabindex: 0, role: "button", "data-node": n.id || "", "aria-label": said,
                             onclick: function () { drill({ node: n.id || "", level: state.top }, nodeLabel(n)); },
                             onkeydown: function (e) { if (activates(e)) { e.preventDefault(); drill({ node: n.id || "", level: state.top }, nodeLabel(n)); } } }, [
        svg("title", { text: nodeLabel(n) + ": " + count(n.projects) + " โครงการ, " + baht(n.budget) }),
        svg("text", { x: 0, y: y + 21, class: "bar-name", text: n.id ? n.id + " " + n.name : shortLabel(n) }),
        svg("rect", { x: labelW, y: y + 6, width: w, height: 20, rx: 3, class: "bar-predicted" }),
        svg("rect", { x: labelW, y: y + 6, width: w * declaredShare, height: 20, rx: 3, class: "bar-declared" }),
        svg("text", { x: labelW + w + 6, y: y + 21, class: "bar-number",
                      text: (key === "budget" ? baht(total) : count(total) + " โครงการ") + change })
      ]);
      chart.appendChild(group);
    });
    box.appendChild(chart);
    if (data.previous_year) box.appendChild(el("p", { class: "muted small", text: "ในวงเล็บ: เปลี่ยนจากปีงบประมาณ " + data.previous_year }));
  }

  /* ----------------------------------------------------------------- heatmap */
  function renderHeatmap(data) {
    var box = PA.clear($("heatmap"));
    var key = metric();
    var nodes = (data.nodes || []).filter(function (n) { return n.id; });
    /* The colour scale is the districts' own: central agencies' budget (D9 alone 34,771 million in FY2566)
       set it and every district cell was nearly white (a walkthrough). Their row is capped at the darkest. */
    var max = 1;
    (data.districts || []).forEach(function (d) { if (d.district) d.cells.forEach(function (c) { if (c.node_id) max = Math.max(max, c[key]); }); });
    var head = el("tr", null, [el("th", { scope: "col", text: "เขต" })].concat(nodes.map(function (n) {
      return el("th", { scope: "col", class: "heat-col", title: n.name }, [el("span", { class: "heat-id", text: n.id }), el("span", { class: "heat-name", text: n.name })]);
    })).concat([el("th", { scope: "col", class: "num", text: key === "budget" ? "งบรวม" : "รวม" })]));
    var body = el("tbody");
    var lastGroup = null;
    (data.districts || []).forEach(function (d) {
      var group = d.district ? "กลุ่ม" + d.group : "ไม่ระบุเขต";  // central agencies (and reports without a district) sat under the last group
      if (group !== lastGroup) {
        body.appendChild(el("tr", { class: "heat-group" }, el("th", { colspan: nodes.length + 2, scope: "rowgroup", text: group })));
        lastGroup = group;
      }
      var cells = {};
      d.cells.forEach(function (c) { cells[c.node_id] = c; });
      var name = d.district ? d.district : "หน่วยงานส่วนกลาง และเรื่องแจ้งที่ไม่ระบุเขต";
      var row = el("tr", { dataset: { district: d.district || NO_DISTRICT } }, [el("th", { scope: "row", text: name })]);
      nodes.forEach(function (n) {
        var c = cells[n.id];
        var value = c ? c[key] : 0;
        var strength = value ? Math.min(1, Math.sqrt(value / max)) : 0;
        /* One cell is a tab stop, the arrow keys move between cells (459 tab stops stood before the needs table), and a
           cell stays a table cell for a screen reader, its row and column headers read with it (an accessibility audit). */
        var detail = name + " · " + n.id + " " + n.name + ": " + count(c ? c.projects : 0) + " โครงการ, " + baht(c ? c.budget : 0) + ", เรื่องแจ้ง " + count(c ? c.reports : 0);
        var td = el("td", { class: "heat" + (value ? "" : " heat-zero"), tabindex: -1, title: detail, "aria-description": detail,
                            dataset: { node: n.id }, text: value ? (key === "budget" ? shortBaht(value) : count(value)) : "–" });
        /* light cells keep dark text, dark ones white text, each at least 4.5:1 (white on the middle shades was 2.85:1) */
        td.style.backgroundColor = value ? "rgba(15, 107, 79, " + (strength > 0.6 ? 0.85 + 0.15 * (strength - 0.6) / 0.4 : 0.12 + 0.58 * strength / 0.6).toFixed(3) + ")" : "";
        if (strength > 0.6) td.classList.add("heat-dark");
        var open = function () { drill({ node: n.id, level: state.top, district: d.district || NO_DISTRICT }, name + " · " + nodeLabel(n), false, td); };
        td.addEventListener("click", open);
        td.addEventListener("focus", function () { takeTabStop(td); });  // a click moves the one tab stop too (two were left: a blind review)
        td.addEventListener("keydown", function (e) {
          if (activates(e)) { e.preventDefault(); open(); } else moveInGrid(e, td);
        });
        row.appendChild(td);
      });
      row.appendChild(el("td", { class: "num", text: key === "budget" ? shortBaht(d.budget) : count(d.projects) }));
      body.appendChild(row);
    });
    var first = body.querySelector("td.heat");
    if (first) first.tabIndex = 0;
    box.appendChild(el("table", { class: "table heatmap" }, [el("thead", null, head), body]));
  }

  function activates(e) { return e.key === "Enter" || e.key === " " || e.key === "Spacebar"; }

  /* Arrow keys, Home and End move the heatmap's one tab stop between its cells (group rows skipped). */
  function moveInGrid(e, cell) {
    var rows = Array.prototype.filter.call(cell.closest("tbody").rows, function (r) { return r.querySelector("td.heat"); });
    var r = rows.indexOf(cell.parentNode);
    var cells = Array.prototype.slice.call(cell.parentNode.querySelectorAll("td.heat"));
    var c = cells.indexOf(cell);
    var target = null;
    if (e.key === "ArrowRight") target = cells[c + 1];
    else if (e.key === "ArrowLeft") target = cells[c - 1];
    else if (e.key === "ArrowDown" && rows[r + 1]) target = rows[r + 1].querySelectorAll("td.heat")[c];
    else if (e.key === "ArrowUp" && rows[r - 1]) target = rows[r - 1].querySelectorAll("td.heat")[c];
    else if (e.key === "Home") target = cells[0];
    else if (e.key === "End") target = cells[cells.length - 1];
    if (!target) return;
    e.preventDefault();
    target.focus();
  }

  function takeTabStop(cell) {
    Array.prototype.forEach.call(cell.closest("tbody").querySelectorAll('td.heat[tabindex="0"]'), function (other) { other.tabIndex = -1; });
    cell.tabIndex = 0;
  }

  /* A heatmap cell in millions of baht, every cell in the same unit ("0.08 ล." beside "19 ล.", not a bare "80,000":
     a dashboard audit); the exact figure is in the cell's title. */
  function shortBaht(n) {
    n = Number(n) || 0;
    if (!n) return "0";
    var millions = n / 1e6;
    var digits = millions >= 10 ? 0 : millions >= 1 ? 1 : millions >= 0.01 ? 2 : 3;
    return millions.toLocaleString("th-TH", { maximumFractionDigits: digits }) + " ล.";
  }

  /* ------------------------------------------------------------ empty issues */
  function renderEmptyIssues(issues) {
    var list = PA.clear($("empty-issues"));
    var empty = (issues.nodes || []).filter(function (n) { return n.id && n.projects === 0; })
      .sort(function (a, b) { return b.reports - a.reports; });
    if (!empty.length) list.appendChild(el("li", { class: "muted", text: "ทุกประเด็นมีโครงการอย่างน้อยหนึ่งโครงการ" }));
    empty.forEach(function (n) {
      list.appendChild(el("li", { class: "empty-issue", dataset: { node: n.id } }, [
        el("span", { class: "node-id", text: n.id }), " ", el("span", { text: n.name }), " · ",
        n.reports ? el("button", { type: "button", class: "link-button", text: "เรื่องแจ้ง " + count(n.reports) + " เรื่อง",
                                   onclick: function () { drill({ node: n.id, level: state.second, reports: true }, "เรื่องที่ประชาชนแจ้ง · " + nodeLabel(n)); } })
          : el("span", { class: "muted small", text: "ไม่มีเรื่องแจ้ง" })
      ]));
    });
  }

  /* ------------------------------------------------------------------- needs */
  function renderNeedsChart(data) {
    var box = PA.clear($("needs-chart"));
    $("needs-scope").textContent = data.group ? "กลุ่มเขต" + data.group : "ทั้งเมือง";  // it follows the group filter
    var nodes = (data.nodes || []).filter(function (n) { return n.id; });
    if (!data.total_reports) {
      box.appendChild(el("p", { class: "muted", text: "ยังไม่มีเรื่องที่ประชาชนแจ้งในปีที่เลือก ผู้ดูแลระบบนำเข้าเรื่องร้องเรียน (เช่น Traffy Fondue) ได้ตามคู่มือ (README: planalign ingest ... --source traffy)" }));
      return;
    }
    var series = [["report_share", "เรื่องที่ประชาชนแจ้ง", "s-report"], ["project_share", "โครงการ", "s-project"], ["budget_share", "งบประมาณ", "s-budget"]];
    var max = 0;
    nodes.forEach(function (n) { series.forEach(function (s) { max = Math.max(max, n[s[0]]); }); });
    var width = 720, top = 24, height = 200, left = 34, step = (width - left) / nodes.length, barW = Math.min(18, step / 4);
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + (height + top + 56), class: "needs-svg", role: "img", "aria-label": "สัดส่วนเรื่องแจ้ง โครงการ และงบประมาณ ราย" + levelWords(state.top) });
    [0, 0.5, 1].forEach(function (f) {
      var y = top + height - f * height;
      chart.appendChild(svg("line", { x1: left, x2: width, y1: y, y2: y, class: "grid" }));
      chart.appendChild(svg("text", { x: left - 4, y: y + 4, class: "axis", "text-anchor": "end", text: PA.percent(f * max) }));
    });
    nodes.forEach(function (n, i) {
      var x0 = left + i * step + (step - 3 * barW) / 2;
      series.forEach(function (s, k) {
        var h = max ? height * n[s[0]] / max : 0;
        chart.appendChild(svg("rect", { x: x0 + k * barW, y: top + height - h, width: barW - 2, height: h, class: s[2] },
                              [svg("title", { text: n.id + " " + n.name + " · " + s[1] + " " + PA.percent(n[s[0]], 1) })]));
      });
      chart.appendChild(svg("text", { x: x0 + 1.5 * barW, y: top + height + 18, class: "axis", "text-anchor": "middle", text: n.id }));
    });
    series.forEach(function (s, k) {
      chart.appendChild(svg("rect", { x: left + k * 190, y: top + height + 34, width: 12, height: 12, class: s[2] }));
      chart.appendChild(svg("text", { x: left + k * 190 + 18, y: top + height + 45, class: "legend", text: "สัดส่วน" + s[1] }));
    });
    box.appendChild(chart);
    // the chart's figures as a table a screen reader can read (they were in hover tooltips only: an accessibility audit)
    box.appendChild(el("table", { class: "visually-hidden" }, [
      el("caption", { text: "สัดส่วนเรื่องที่ประชาชนแจ้ง โครงการ และงบประมาณ ราย" + levelWords(state.top) }),
      el("thead", null, el("tr", null, [el("th", { scope: "col", text: levelWords(state.top) })].concat(series.map(function (s) {
        return el("th", { scope: "col", text: "สัดส่วน" + s[1] });
      })))),
      el("tbody", null, nodes.map(function (n) {
        return el("tr", null, [el("th", { scope: "row", text: n.id + " " + n.name })].concat(series.map(function (s) {
          return el("td", { text: PA.percent(n[s[0]], 1) });
        })));
      }))
    ]));
  }

  function renderNeeds(needs) {
    var box = PA.clear($("needs-table"));
    if (!(needs.needs || []).length) {
      box.appendChild(el("p", { class: "muted", text: "ไม่พบเขตที่เรื่องแจ้งในประเด็นใดสูงกว่าสัดส่วนโครงการอย่างชัดเจน (นับเฉพาะช่องที่มีเรื่องแจ้งอย่างน้อย 10 เรื่อง)" }));
      return;
    }
    var rows = needs.needs.map(function (n) {
      return el("tr", { dataset: { district: n.district, node: n.node_id } }, [
        el("td", null, [el("strong", { text: n.district }), el("div", { class: "muted small", text: n.group })]),
        el("td", null, [el("span", { class: "node-id", text: n.node_id }), " ", n.name]),
        el("td", { class: "num" }, [count(n.reports), el("div", { class: "muted small", text: PA.percent(n.report_share) + " ของเรื่องแจ้งในเขต" })]),
        el("td", { class: "num" }, [count(n.projects), el("div", { class: "muted small", text: PA.percent(n.project_share) + " ของโครงการเขต" })]),
        el("td", null, el("ul", { class: "examples" }, n.examples.map(function (e) {
          return el("li", { title: e.text, text: PA.excerpt(e.text, [], 90).text });
        }))),
        el("td", { class: "nowrap" }, el("button", { type: "button", class: "link-button", text: "ดูทั้งหมด",
                                      onclick: function () { drill({ node: n.node_id, level: state.second, district: n.district, reports: true }, "เรื่องแจ้ง · เขต" + n.district + " · " + n.node_id + " " + n.name); } }))
      ]);
    });
    if (needs.total_needs > needs.needs.length) {  // the first ones only: said, with where the rest are (a dashboard audit)
      box.appendChild(el("p", { class: "muted small", text: "แสดง " + count(needs.needs.length) + " อันดับแรกจาก " + count(needs.total_needs) +
                                                             " รายการ (ทั้งหมดอยู่ในไฟล์ส่งออก “ความต้องการที่โครงการรองรับน้อย” ด้านล่าง)" }));
    }
    box.appendChild(el("table", { class: "table needs" }, [
      el("thead", null, el("tr", null, ["เขต", "ประเด็นการพัฒนา", "เรื่องแจ้ง", "โครงการ", "ตัวอย่างเรื่องที่แจ้ง", ""].map(function (h, i) {
        return el("th", { scope: "col", class: i === 2 || i === 3 ? "num" : null, text: h });
      }))), el("tbody", null, rows)
    ]));
  }

  /* --------------------------------------------------------------- drill-down */
  function drill(filter, title, more, opener) {
    if (!more) state.drill = { filter: filter, title: title, offset: 0, opener: opener || document.activeElement };
    var d = state.drill;
    var section = $("drill");
    section.hidden = false;
    $("drill-heading").textContent = (d.filter.reports ? "" : "โครงการ · ") + d.title;
    if (!more) PA.clear($("drill-table"));
    PA.setStatus($("drill-status"), "กำลังโหลด…", "busy");
    PA.api("/v1/coverage/items" + PA.query(params({ node: d.filter.node, level: d.filter.level, district: d.filter.district || "",
                                                     reports: d.filter.reports ? "true" : "", offset: d.offset, limit: 50 })))
      .then(function (data) {
        renderItems(data, d.filter.reports, more);
        d.offset += data.items.length;
        PA.setStatus($("drill-status"), "แสดง " + count(d.offset) + " จาก " + count(data.total) + " รายการ", "ok");
        $("drill-more").hidden = d.offset >= data.total;
        if (!more) {  /* the keyboard follows the page to the list (focus stayed on the cell, off-screen: an accessibility audit) */
          section.scrollIntoView({ behavior: "smooth", block: "start" });
          $("drill-heading").focus({ preventScroll: true });
        }
      })
      .catch(function (err) { PA.setStatus($("drill-status"), err.message, "error"); });
  }

  function renderItems(data, reports, more) {
    var box = $("drill-table");
    var table = box.querySelector("table");
    if (!table || !more) {
      PA.clear(box);
      var heads = reports ? ["เรื่องที่แจ้ง", "เขต", "ที่มาของการจัดหมวด", "ความมั่นใจ"] : ["โครงการ", "หน่วยงาน", "งบประมาณ", "ที่มาของการจัดหมวด", "ความมั่นใจ"];
      table = el("table", { class: "table items" }, [el("thead", null, el("tr", null, heads.map(function (h) {
        return el("th", { scope: "col", class: h === "งบประมาณ" || h === "ความมั่นใจ" ? "num" : null, text: h });
      }))), el("tbody")]);
      box.appendChild(table);
    }
    var body = table.querySelector("tbody");
    data.items.forEach(function (item) {
      var source = el("span", { class: "badge source-" + item.source, text: SOURCE_THAI[item.source] || item.source });
      var confidence = item.confidence === null || item.confidence === undefined ? "–" : PA.percent(item.confidence);
      var cells = reports
        ? [el("td", { text: PA.excerpt(item.name, [], 200).text }), el("td", { text: item.district }), el("td", null, source), el("td", { class: "num", text: confidence })]
        : [el("td", { text: item.name }), el("td", { text: item.org || item.district }), el("td", { class: "num", text: item.budget === null ? "–" : baht(item.budget) }),
           el("td", null, source), el("td", { class: "num", text: confidence })];
      body.appendChild(el("tr", { dataset: { id: item.id } }, cells));
    });
  }

  /* ----------------------------------------------------------------- exports */
  function renderExports() {
    var list = PA.clear($("exports"));
    [["nodes", state.top, "ราย" + levelWords(state.top)], ["nodes", state.second, "ราย" + levelWords(state.second)],
     ["districts", state.top, "รายเขต × " + levelWords(state.top)], ["needs", state.second, "ความต้องการที่โครงการรองรับน้อย"]]
      .forEach(function (t) {
        list.appendChild(el("li", null, [el("span", { class: "export-name", text: t[2] })].concat(["csv", "xlsx"].map(function (f) {
          return el("a", { class: "btn", href: "/v1/coverage/export" + PA.query(params({ table: t[0], level: t[1], format: f, headers: "th" })), download: "", text: f.toUpperCase() });
        }))));
      });
  }

  /* -------------------------------------------------------------------- load */
  function render() {
    if (!state.dimension) return;
    renderBars(state.dimension);
    renderHeatmap(state.dimension);
  }

  /* The newest year opens, unless it holds only the sample projects (written by us) while another year holds real
     ones: real data ingested beside the samples opened on 107 invented projects (a dashboard audit). */
  function fillYears(all) {
    var select = $("d-year");
    if (select.options.length > 1) return;
    var years = all.years || [], sample = all.sample_years || [], projectYears = all.project_years || years;
    years.slice().reverse().forEach(function (y) {
      var note = sample.indexOf(y) >= 0 ? " (ข้อมูลตัวอย่าง)" : projectYears.indexOf(y) < 0 ? " (มีแต่เรื่องแจ้ง)" : "";
      select.appendChild(el("option", { value: y, text: String(y) + note }));
    });
    /* a year of projects, real if any: a year of citizen reports alone opened on 0 projects (a blind review) */
    var real = projectYears.filter(function (y) { return sample.indexOf(y) < 0; });
    var open = real.length ? real : projectYears.length ? projectYears : years;
    if (open.length) select.value = String(open[open.length - 1]);
    var wanted = asked.get("year");  // the address's year, once: a catalog chosen later opens as the page chooses
    asked.delete("year");
    if (wanted !== null) choose("d-year", wanted === "all" ? "" : wanted);
  }

  function load() {
    document.body.dataset.loaded = "false";
    PA.setStatus($("dash-status"), "กำลังคำนวณ…", "busy");
    var first = $("d-year").options.length > 1 ? Promise.resolve(null) : PA.api("/v1/coverage" + PA.query({ catalog: $("catalog").value }));
    return PA.loadCatalogs().then(chooseLevels).then(function () { return first; }).then(function (all) {
      if (all) fillYears(all);
      return Promise.all([
        PA.api("/v1/coverage" + PA.query(params({ level: state.top }))),
        PA.api("/v1/coverage" + PA.query(params({ level: state.second }))),
        PA.api("/v1/coverage/needs" + PA.query(params({ level: state.second })))
      ]);
    }).then(function (found) {
      state.dimension = found[0];
      state.issue = found[1];
      state.needs = found[2];
      PA.setStatus($("dash-status"), "", "");
      renderSummary(found[0], found[1]);
      render();
      renderEmptyIssues(found[1]);
      renderNeedsChart(found[0]);
      renderNeeds(found[2]);
      renderExports();
      remember();
      document.body.dataset.loaded = "true";
    }).catch(function (err) { PA.setStatus($("dash-status"), err.message, "error"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    PA.loadCatalogs().then(function () {
      choose("catalog", asked.get("catalog"));
      choose("d-group", asked.get("group"));
      choose("d-metric", asked.get("metric"));
      return load();
    }, function (err) { PA.setStatus($("dash-status"), err.message, "error"); });
    ["d-year", "d-group", "d-level", "catalog"].forEach(function (id) {
      $(id).addEventListener("change", function () { if (id === "catalog") PA.clear($("d-year")).appendChild(el("option", { value: "", text: "ทุกปี" })); load(); });
    });
    $("d-metric").addEventListener("change", function () { render(); remember(); });
    $("drill-close").addEventListener("click", function () {
      $("drill").hidden = true;
      var opener = state.drill && state.drill.opener;  /* back where the list was opened from (focus fell to the page) */
      if (opener && document.body.contains(opener)) opener.focus();
      else PA.focusIfLost($("heat-heading"));  // redrawn meanwhile (another metric): the section it was in
    });
    $("drill-more").addEventListener("click", function () { drill(null, null, true); });
  });
})();
