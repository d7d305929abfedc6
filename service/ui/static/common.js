/* Shared helpers for the planalign pages: API calls, safe DOM building, highlighting.
   All API text goes into the page through textContent / text nodes, never innerHTML. */
(function () {
  "use strict";

  var KEY_STORE = "planalign.apiKey";

  var LEVEL_NAMES = {
    dimension: "ด้าน",
    issue: "ประเด็น",
    goal: "เป้าหมาย",
    okr: "ตัวชี้วัด (OKR)",
    strategy: "ยุทธศาสตร์",
    measure: "มาตรการ"
  };

  var MATCH_KINDS = {
    name: "ชื่อหัวข้อ",
    description: "คำอธิบาย",
    keywords: "คำสำคัญ",
    example: "ข้อความที่มีผู้ตัดสินใจไว้แล้ว"
  };

  function levelName(level) {
    return LEVEL_NAMES[level] || level;
  }

  function apiKey() {
    try { return window.localStorage.getItem(KEY_STORE) || ""; } catch (e) { return ""; }
  }

  /* el("div", {class: "x", dataset: {a: 1}, onclick: fn}, [child, "text"]) */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) return;
        if (name === "class") node.className = value;
        else if (name === "text") node.textContent = String(value);
        else if (name === "dataset") Object.keys(value).forEach(function (k) { node.dataset[k] = String(value[k]); });
        else if (name.indexOf("on") === 0 && typeof value === "function") node.addEventListener(name.slice(2), value);
        else if (value === true) node.setAttribute(name, "");
        else node.setAttribute(name, String(value));
      });
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    if (children === null || children === undefined) return node;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      if (Array.isArray(child)) append(node, child);
      else if (child instanceof Node) node.appendChild(child);
      else node.appendChild(document.createTextNode(String(child)));
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  /* Turn an API error body ({error, message_th, detail}) into a readable Thai message: the API's Thai
     message when it has one (a file's problem, naming the file and what to do), else the status in Thai. */
  function errorMessage(status, body) {
    if (body && body.message_th) return String(body.message_th);
    var prefix = {
      400: "คำขอไม่ถูกต้อง", 401: "ต้องใช้คีย์ API ที่ถูกต้อง", 404: "ไม่พบข้อมูล", 409: "ยังไม่พร้อม",
      413: "ข้อมูลมีขนาดใหญ่เกินไป", 415: "ไม่รองรับชนิดไฟล์นี้", 422: "ข้อมูลไม่ถูกต้อง",
      503: "ระบบยังไม่พร้อม กรุณาลองใหม่ในอีกสักครู่", 0: "เชื่อมต่อระบบไม่ได้ (เครือข่ายหรือเซิร์ฟเวอร์อาจหยุดทำงาน) กรุณาลองใหม่"
    }[status] || ("เกิดข้อผิดพลาด (รหัส " + status + ")");
    var detail = body && body.error && status !== 0 ? String(body.error) : "";  // no connection: the prefix says it all (it read "(0)")
    return detail ? prefix + ": " + detail : prefix;
  }

  function ApiError(status, body) {
    this.status = status;
    this.body = body;
    this.message = errorMessage(status, body);
  }
  ApiError.prototype = Object.create(Error.prototype);

  /* api("/v1/align", {method: "POST", json: {...}}) -> Promise of the parsed JSON */
  function api(path, options) {
    options = options || {};
    var headers = { "Accept": "application/json" };
    var body = options.body;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    var key = apiKey();
    if (key) headers["X-API-Key"] = key;
    /* A request that never answers ends with a message instead of "กำลังวิเคราะห์…" for ever (a paused server kept the
       planner's button disabled with no way out: an accessibility audit): 2 minutes, 10 for an upload. */
    var seconds = options.timeout || (body instanceof FormData ? 600 : 120);
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, seconds * 1000) : null;
    return fetch(path, { method: options.method || "GET", headers: headers, body: body, credentials: "same-origin",
                         signal: controller ? controller.signal : undefined })
      .then(function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text.slice(0, 300) }; }
          if (!response.ok) throw new ApiError(response.status, data);
          return data;
        });
      }, function (err) {
        if (err && err.name === "AbortError") {
          throw new ApiError(0, { message_th: "ระบบไม่ตอบภายใน " + Math.round(seconds / 60) + " นาที กรุณาลองใหม่ หากยังเป็นเช่นนี้ แจ้งผู้ดูแลระบบ" });
        }
        throw new ApiError(0, { error: "ติดต่อเซิร์ฟเวอร์ไม่ได้" });
      })
      .finally(function () { if (timer) clearTimeout(timer); });
  }

  /* A file from the API as a blob URL: links and images cannot send the API key header, fetch can
     (so downloads and the confusion image work when reads need a key). Revoke the URL when done. */
  function blobUrl(path) {
    var headers = {};
    var key = apiKey();
    if (key) headers["X-API-Key"] = key;
    return fetch(path, { headers: headers, credentials: "same-origin" }).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text.slice(0, 300) }; }
          throw new ApiError(response.status, data);
        });
      }
      return response.blob().then(function (blob) { return URL.createObjectURL(blob); });
    }, function () {
      throw new ApiError(0, { error: "ติดต่อเซิร์ฟเวอร์ไม่ได้" });
    });
  }

  /* Download an API file under `filename` through blobUrl. */
  function download(path, filename) {
    return blobUrl(path).then(function (url) {
      var link = el("a", { href: url, download: filename || "" });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    });
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (name) {
      var value = params[name];
      if (value === null || value === undefined || value === "") return;
      parts.push(encodeURIComponent(name) + "=" + encodeURIComponent(value));
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  /* Fragments of `text` with the code-point spans [[start, end], ...] wrapped in <mark>.
     The API counts in Unicode code points (Python), so slice by code points, not UTF-16 units. */
  function highlightSpans(text, spans) {
    var chars = Array.from(String(text || ""));
    var ordered = (spans || []).filter(function (s) { return Array.isArray(s) && s.length === 2; })
      .map(function (s) { return [Math.max(0, s[0] | 0), Math.min(chars.length, s[1] | 0)]; })
      .filter(function (s) { return s[1] > s[0]; })
      .sort(function (a, b) { return a[0] - b[0]; });
    var out = [];
    var at = 0;
    ordered.forEach(function (span) {
      if (span[0] < at) return; // overlapping span: keep the first
      if (span[0] > at) out.push(document.createTextNode(chars.slice(at, span[0]).join("")));
      out.push(el("mark", null, chars.slice(span[0], span[1]).join("")));
      at = span[1];
    });
    if (at < chars.length) out.push(document.createTextNode(chars.slice(at).join("")));
    return out;
  }

  /* Fragments of `text` with every occurrence of the given words wrapped in <mark> (longest first). */
  function highlightWords(text, words) {
    text = String(text || "");
    var list = (words || []).map(String).filter(function (w) { return w.trim().length > 0; })
      .sort(function (a, b) { return b.length - a.length; });
    if (!list.length) return [document.createTextNode(text)];
    var lower = text.toLowerCase();
    var taken = new Array(text.length).fill(false);
    var spans = [];
    list.forEach(function (word) {
      var needle = word.toLowerCase();
      var from = 0;
      while (true) {
        var at = lower.indexOf(needle, from);
        if (at < 0) break;
        var end = at + needle.length;
        var free = true;
        for (var i = at; i < end; i++) if (taken[i]) { free = false; break; }
        if (free) {
          for (var j = at; j < end; j++) taken[j] = true;
          spans.push([at, end]);
        }
        from = at + 1;
      }
    });
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var out = [];
    var pos = 0;
    spans.forEach(function (s) {
      if (s[0] > pos) out.push(document.createTextNode(text.slice(pos, s[0])));
      out.push(el("mark", null, text.slice(s[0], s[1])));
      pos = s[1];
    });
    if (pos < text.length) out.push(document.createTextNode(text.slice(pos)));
    return out;
  }

  function percent(value, digits) {
    var n = Number(value);
    if (!isFinite(n)) return "–";
    digits = digits === undefined ? 0 : digits;
    var floor = Math.pow(10, -digits) / 100;
    if (n > 0 && n < floor / 2) return "<" + (floor * 100).toFixed(digits) + "%";
    return (n * 100).toFixed(digits) + "%";
  }

  /* A part of a long text (about maxLength characters) around the first of the given words. */
  function excerpt(text, words, maxLength) {
    text = String(text || "");
    maxLength = maxLength || 220;
    if (text.length <= maxLength) return { text: text, cut: false };
    var lower = text.toLowerCase();
    var first = -1;
    (words || []).forEach(function (w) {
      var at = lower.indexOf(String(w).toLowerCase());
      if (at >= 0 && (first < 0 || at < first)) first = at;
    });
    var start = first > 40 ? first - 40 : 0;
    if (start > 0) {
      var space = text.lastIndexOf(" ", start + 10);
      if (space > start - 30 && space >= 0) start = space + 1;
    }
    var end = Math.min(text.length, start + maxLength);
    if (end < text.length) {
      var cut = text.lastIndexOf(" ", end);
      if (cut > start + maxLength * 0.7) end = cut;
    }
    return { text: (start > 0 ? "… " : "") + text.slice(start, end) + (end < text.length ? " …" : ""), cut: true };
  }

  /* A CSS bar with its % value: <div class="bar"><span class="bar-fill" style="width:x%"></span></div> 87% */
  function confidenceBar(value, label) {
    var n = Math.max(0, Math.min(1, Number(value) || 0));
    var fill = el("span", { class: "bar-fill" + (n >= 0.6 ? " high" : n >= 0.3 ? " mid" : " low") });
    fill.style.width = (n * 100).toFixed(1) + "%";
    return el("div", { class: "confidence" }, [
      el("span", { class: "bar-label", text: "ความมั่นใจ" }),
      el("div", { class: "bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100,
                  "aria-valuenow": Math.round(n * 100), "aria-label": label || "ความมั่นใจ" }, fill),
      el("span", { class: "bar-value", text: percent(n) })
    ]);
  }

  function setStatus(node, message, kind) {
    if (!node) return;
    node.textContent = message || "";
    node.className = "status" + (kind ? " " + kind : "");
  }

  /* Fill every <select data-catalog-select> with the catalogs; resolves with the catalog list.
     ``fresh``: read the list again (after an upload) and refill the selects. */
  var catalogsPromise = null;
  function loadCatalogs(fresh) {
    if (fresh) {
      catalogsPromise = null;
      document.querySelectorAll("select[data-catalog-select]").forEach(function (select) { clear(select); });
    }
    if (!catalogsPromise) {
      catalogsPromise = api("/v1/catalogs");
      catalogsPromise.catch(function () { catalogsPromise = null; });  // asked again next time (a 401 before a key was given stayed for good)
    }
    return catalogsPromise.then(function (data) {
      var fallback = document.body.dataset.defaultCatalog || "";
      var chosen = (data && data.default) || fallback;
      document.querySelectorAll("select[data-catalog-select]").forEach(function (select) {
        if (select.options.length) return;
        (data.catalogs || []).forEach(function (c) {
          var label = (c.title || c.id) + " (" + c.nodes + " หัวข้อ)";
          select.appendChild(el("option", { value: c.id, text: label, selected: c.id === chosen }));
        });
      });
      return data;
    });
  }

  /* A catalog's name for people (its title from /v1/catalogs), else its id. */
  function catalogTitle(catalogId) {
    return (catalogsPromise || loadCatalogs()).then(function (data) {
      var found = ((data && data.catalogs) || []).filter(function (c) { return c.id === catalogId; })[0];
      return (found && found.title) || catalogId;
    }, function () { return catalogId; });
  }

  function initApiKey() {
    var input = document.getElementById("api-key");
    if (!input) return;
    input.value = apiKey();
    input.addEventListener("change", function () {
      try { window.localStorage.setItem(KEY_STORE, input.value.trim()); } catch (e) { /* private mode */ }
    });
  }

  /* Duplicate decisions (index/dedup.py) in Thai: the kind, the fields that match or differ, and
     why a search hit is shown. Read from the page (base.html's body), which takes them from service/format.py:
     a second copy here had drifted ("related" was worded two ways). */
  var TERMS = JSON.parse((document.body && document.body.getAttribute("data-terms")) || "{}");
  var DECISION_KINDS = TERMS.kinds || {};
  var FIELD_NAMES = TERMS.fields || {};
  var FIELD_VALUES = TERMS.values || {};
  var EXPLANATIONS = TERMS.explanations || {};

  function kindThai(kind) { return DECISION_KINDS[kind] || kind; }

  /* One field value in Thai: places and wording carry their own marker word ("ซอยพหลโยธิน 55"). */
  function fieldValue(field, value) {
    var text = String(value);
    if (field === "activity" || field === "target_group" || field === "text") {
      text = text.split(",").map(function (v) { v = v.trim(); return FIELD_VALUES[v] || v; }).join(", ");
    }
    if (field.indexOf("place.") === 0 || field === "wording") return text;
    return (FIELD_NAMES[field] || field) + " " + text;
  }

  function matchedThai(d) {
    return ((d && d.matched_fields) || []).map(function (f) { return fieldValue(f.field, f.value); });
  }

  function conflictsThai(d) {
    return ((d && d.conflicting_fields) || []).map(function (f) { return fieldValue(f.field, f.a) + " ≠ " + fieldValue(f.field, f.b); });
  }

  /* A duplicate keeps only differences that do not make two projects (an activity worded otherwise): said as
     such, not as the "ต่างกัน" of a related pair (a walkthrough read "โครงการเดียวกัน" beside "ต่างกัน: กิจกรรม"). */
  function conflictLabel(d) {
    return d && (d.kind === "copy" || d.kind === "same_project") ? "ต่างกันบางส่วน (ควรตรวจ): " : "ต่างกัน: ";
  }

  /* A duplicate decision as page elements: what matches (chips) and what differs ("ซอย 20 ≠ ซอย 26"). */
  function decisionEvidence(d) {
    var matched = matchedThai(d), conflicts = conflictsThai(d);
    var rows = [];
    if (conflicts.length) rows.push(el("div", { class: "evidence-fields conflicts" }, [
      el("span", { class: "evidence-label", text: conflictLabel(d) }),
      conflicts.slice(0, 6).map(function (t) { return el("span", { class: "chip chip-conflict", text: t }); })
    ]));
    if (matched.length) rows.push(el("div", { class: "evidence-fields matched" }, [
      el("span", { class: "evidence-label", text: "ตรงกัน: " }),
      matched.slice(0, 8).map(function (t) { return el("span", { class: "chip chip-match", text: t }); })
    ]));
    return rows;
  }

  /* Who decided: an API key's name, or "local" (no key: a person at this installation), said in Thai (a walkthrough saw "local"). */
  function whoThai(who) { return who === "local" ? "ผู้ใช้ในหน่วยงาน (ไม่ระบุชื่อ)" : who; }

  /* Where a decision came from, in Thai (the API's sources, in their order). */
  var SOURCE_THAI = { planner: "หน้าวางแผน", reviewer: "ผู้ตรวจ", evaluator: "ทีมประเมินผล", declared: "แบบฟอร์มโครงการ", imported: "นำเข้าไฟล์" };
  function sourceThai(source) { return SOURCE_THAI[source] || source; }

  /* The number behind a duplicate decision, as service/format.py's describe_decision says it. */
  function decisionScore(d) {
    if (!d) return "";
    if (d.kind === "copy" && d.lexical !== null && d.lexical !== undefined) return "คำของข้อความที่สั้นกว่าตรงกัน " + Math.round(d.lexical * 100) + "%";
    if (d.semantic !== null && d.semantic !== undefined) return "ความหมายใกล้เคียง " + Number(d.semantic).toFixed(2);
    return "";
  }

  /* Why a search hit is shown, as Thai labels. */
  function explanationThai(why) {
    return (why || []).map(function (w) { return EXPLANATIONS[w] || w; });
  }

  /* After async work the keyboard goes on from ``target`` when its place is gone: a button disabled while a
     request ran, or hidden, or re-drawn, left focus on the page itself (an accessibility audit). */
  function focusIfLost(target) {
    var at = document.activeElement;
    if (!target || (at && at !== document.body && !at.disabled && at.offsetParent !== null)) return;
    if (!/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(target.tagName) && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
  }

  /* A field the page found wrong says so to a screen reader and points at the message (aria-invalid, aria-describedby):
     the Thai message sat in the status line, the field unmarked (an accessibility audit). Cleared as the field changes. */
  function fieldError(field, message) {
    if (!field) return;
    field.setAttribute("aria-invalid", "true");
    if (message && message.id) field.setAttribute("aria-describedby", message.id);
    field.addEventListener("input", function clear() {
      field.removeAttribute("aria-invalid");
      field.removeEventListener("input", clear);
    });
    field.focus();
  }

  function formatNumber(n) {
    return Number(n).toLocaleString("th-TH");
  }

  document.addEventListener("DOMContentLoaded", initApiKey);

  window.PA = {
    api: api, blobUrl: blobUrl, download: download, query: query, el: el, append: append, clear: clear, ApiError: ApiError,
    highlightSpans: highlightSpans, highlightWords: highlightWords, percent: percent, excerpt: excerpt, decisionScore: decisionScore, whoThai: whoThai,
    sourceThai: sourceThai, sources: Object.keys(SOURCE_THAI),
    confidenceBar: confidenceBar, setStatus: setStatus, loadCatalogs: loadCatalogs,
    levelName: levelName, catalogTitle: catalogTitle, matchKind: function (k) { return MATCH_KINDS[k] || k; }, formatNumber: formatNumber,
    decisionEvidence: decisionEvidence, kindThai: kindThai, explanationThai: explanationThai, focusIfLost: focusIfLost, fieldError: fieldError
  };
})();
