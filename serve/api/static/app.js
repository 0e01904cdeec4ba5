// newsdesk try-it page: calls the /v1 API of the server that served it.
// Article text is untrusted: it only ever reaches the page through textContent and text nodes.
"use strict";

(function () {
  const KEY_STORAGE = "newsdesk.apiKey";
  const TOP_K = 5;

  const ENDPOINTS = {
    classify: { path: "v1/predict", busy: "Classifying…", summary: false, topic: true },
    summarize: { path: "v1/summarize", busy: "Summarising…", summary: true, topic: false },
    analyze: { path: "v1/analyze", busy: "Analysing…", summary: true, topic: true },
  };

  const ERROR_TITLES = {
    0: "Could not reach the server",
    400: "The server could not read the request",
    401: "The server needs a valid API key",
    404: "Not found",
    409: "The model cannot do this",
    413: "The article is too long for this server",
    422: "The server could not use this article",
    500: "The server hit an unexpected error",
    503: "The model is not loaded yet; try again in a moment",
  };

  const METRIC_NAMES = {
    accuracy: "accuracy",
    macro_f1: "macro F1",
    micro_f1: "micro F1",
    weighted_f1: "weighted F1",
    rouge1: "ROUGE-1",
    rouge2: "ROUGE-2",
    rougeL: "ROUGE-L",
    rougeLsum: "ROUGE-Lsum",
  };

  const EXAMPLE_TITLE = "Chelsea sign Danish striker Larsen";
  const EXAMPLE_TEXT = [
    "Home | News | Sport | Football",
    "Chelsea sign Danish striker Larsen",
    "- 10 hours ago",
    "Share this article",
    "Chelsea have completed the signing of Danish striker Jon Larsen from Ajax for a fee of £12m.",
    "",
    "The 23-year-old scored 19 goals in the Dutch league last season and has signed a five-year contract at Stamford Bridge.",
    "",
    "Manager Jose Mourinho said Larsen would add pace and movement to an attack that has struggled to score away from home.",
    "",
    "\"He is young, he is hungry and he knows where the goal is,\" Mourinho told the club's website.",
    "",
    "Larsen is expected to make his debut in Saturday's Premiership match against Everton.",
    "Share this article",
    "Related stories",
    "Arsenal beaten at home by Bolton",
    "Liverpool held to a draw at Anfield",
    "United name new assistant manager",
  ].join("\n");

  let busy = false;

  const { $, element, requestHeaders } = window.newsdeskPage;

  // ------------------------------------------------------------------ API calls

  class ApiProblem extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function callApi(path, body) {
    let response;
    try {
      response = await fetch(path, {
        method: body === undefined ? "GET" : "POST",
        headers: requestHeaders(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch (failure) {
      throw new ApiProblem(0, "network_error", "The request did not get an answer (" + failure.message + ").");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (failure) {
      data = null;
    }
    if (!response.ok) {
      const detail = data && data.error && typeof data.error === "object" ? data.error : null;
      const code = detail && typeof detail.code === "string" ? detail.code : "http_" + response.status;
      const message =
        detail && typeof detail.message === "string"
          ? detail.message
          : "The server answered " + response.status + " " + response.statusText + ".";
      throw new ApiProblem(response.status, code, message);
    }
    if (data === null) {
      throw new ApiProblem(response.status, "invalid_response", "The server's answer was not JSON.");
    }
    return data;
  }

  // ------------------------------------------------------------------ status and errors

  function setStatus(text, isBusy) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("busy", Boolean(isBusy));
  }

  function showError(problem, title) {
    if (!title) {
      title = ERROR_TITLES[problem.status] || "The request failed";
      if (problem.status) title += " (" + problem.status + ")";
    }
    $("error-title").textContent = title;
    $("error-message").textContent = problem.message + (problem.code ? " [" + problem.code + "]" : "");
    $("error").hidden = false;
  }

  // On a phone the results sit below the form: bring them into view (focus stays where it was).
  function revealResults() {
    const heading = $("results-heading");
    if (heading.getBoundingClientRect().top > window.innerHeight * 0.6) {
      const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      heading.scrollIntoView({ behavior: smooth ? "smooth" : "auto", block: "start" });
    }
  }

  function clearError() {
    $("error").hidden = true;
    $("error-title").textContent = "";
    $("error-message").textContent = "";
  }

  function setBusy(value) {
    busy = value;
    $("results").setAttribute("aria-busy", value ? "true" : "false");
    for (const button of document.querySelectorAll("button[data-action]")) {
      // aria-disabled, not disabled: a disabled button would drop keyboard focus.
      button.setAttribute("aria-disabled", value ? "true" : "false");
    }
  }

  // ------------------------------------------------------------------ rendering

  function percent(score) {
    return (Math.round(score * 1000) / 10).toFixed(1) + "%";
  }

  // Terms that pushed the article towards its topic (explain: true), highlighted in the document view.
  let explainedTerms = null;

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  function termPattern(explanation) {
    const terms = (explanation && explanation.towards) || [];
    if (!terms.length) return null;
    // A bigram's words may be separated by any non-word characters, as the tokenizer ignores them.
    const parts = terms.map((t) => t.term.split(" ").map(escapeRegExp).join("[^\\p{L}\\p{N}_]+"));
    return {
      regex: new RegExp("(?<![\\p{L}\\p{N}_])(?:" + parts.join("|") + ")(?![\\p{L}\\p{N}_])", "giu"),
      weights: new Map(terms.map((t) => [t.term, t.weight])),
      topic: explanation.topic,
    };
  }

  function withTerms(text) {
    // Plain text with explained terms wrapped in <mark class="term">, built as DOM nodes (never as HTML).
    const fragment = document.createDocumentFragment();
    if (!explainedTerms) {
      fragment.append(document.createTextNode(text));
      return fragment;
    }
    let last = 0;
    for (const match of text.matchAll(explainedTerms.regex)) {
      if (match.index > last) fragment.append(document.createTextNode(text.slice(last, match.index)));
      const key = match[0].toLowerCase().split(/[^\p{L}\p{N}_]+/u).join(" ");
      const mark = element("mark", "term", match[0]);
      const weight = explainedTerms.weights.get(key);
      mark.title = "Towards " + explainedTerms.topic + (weight === undefined ? "" : " (+" + weight.toFixed(3) + ")");
      fragment.append(mark);
      last = match.index + match[0].length;
    }
    if (last < text.length) fragment.append(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function renderTerms(prediction) {
    const list = $("terms");
    list.replaceChildren();
    const explanation = prediction.explanation;
    const terms = (explanation && explanation.towards) || [];
    for (const item of terms) {
      const chip = element("li", "term-chip", item.term);
      chip.title = "+" + item.weight.toFixed(3) + " towards " + explanation.topic;
      list.append(chip);
    }
    $("terms-block").hidden = terms.length === 0;
    $("terms-heading").textContent = explanation
      ? "Why " + explanation.topic + (explanation.runner_up ? " (not " + explanation.runner_up + ")" : "")
      : "";
  }

  function renderTopic(prediction) {
    const review = prediction.needs_review;
    $("topic").textContent = review ? "needs review" : prediction.topic || "no topic";
    $("topic-score").textContent = prediction.topic ? percent(prediction.score) : "";
    const note = $("review-note");
    note.hidden = !review;
    note.textContent = review
      ? (prediction.review_reason === "out_of_scope"
          ? "Unlike anything the model was trained on: a person should pick the topic. "
          : "The model is not sure enough: a person should pick the topic. ") + (prediction.review_detail || "")
      : "";
    renderTerms(prediction);
    const list = $("scores");
    list.replaceChildren();
    const chosen = new Set(prediction.labels || []);
    for (const item of prediction.scores || []) {
      const row = element("li", chosen.has(item.label) ? "chosen" : "");
      const fill = element("div", "bar-fill");
      fill.style.width = Math.max(0, Math.min(100, item.score * 100)).toFixed(1) + "%";
      const bar = element("div", "bar");
      bar.setAttribute("aria-hidden", "true");
      bar.append(fill);
      row.append(element("span", "score-label", item.label), bar, element("span", "score-value", percent(item.score)));
      list.append(row);
    }
    $("topic-card").hidden = false;
  }

  function renderSummary(summary) {
    $("summary").textContent = summary.summary;
    const count = summary.sentences.length;
    $("summary-meta").textContent =
      count + " of " + summary.article_sentences + " sentence" + (summary.article_sentences === 1 ? "" : "s") +
      " · " + summary.method;
    $("summary-card").hidden = false;
  }

  function renderCleaning(cleaning, documentView) {
    const removed = cleaning.removed_lines;
    const source = cleaning.format === "html" ? "Read as a web page (HTML). " : "";
    $("cleaning").textContent =
      source +
      (removed === 0
        ? "Cleaning removed nothing."
        : "Cleaning removed " + removed + " line" + (removed === 1 ? "" : "s") + " of page furniture.");
    const warnings = $("warnings");
    warnings.replaceChildren();
    for (const warning of cleaning.warnings || []) warnings.append(element("li", "", warning));
    const target = $("document");
    target.replaceChildren();
    $("document-tools").hidden = !documentView;
    if (documentView) {
      for (const block of documentView.blocks) target.append(renderBlock(block));
      if (!documentView.placed) {
        target.append(element("p", "muted small", "Removed lines could not be placed and are listed last."));
      }
    }
    target.hidden = !documentView;
    $("cleaning-card").hidden = false;
  }

  function renderBlock(block) {
    const line = element("p", "line " + (block.kind === "removed" ? "removed" : "kept"));
    if (block.kind === "removed") {
      const reason = block.reason || "removed";
      const struck = element("del", "", block.text);
      struck.title = "Removed: " + reason;
      line.append(struck, element("span", "reason", reason));
      return line;
    }
    for (const span of block.spans) {
      if (span.sentence === null || span.sentence === undefined) {
        line.append(withTerms(span.text));
      } else {
        const mark = element("mark", "highlight");
        mark.append(withTerms(span.text));
        mark.dataset.sentence = String(span.sentence);
        mark.title = "Summary sentence";
        line.append(mark);
      }
    }
    return line;
  }

  function hideResults() {
    for (const id of ["topic-card", "summary-card", "cleaning-card"]) $(id).hidden = true;
  }

  // ------------------------------------------------------------------ actions

  function articleRequest(action) {
    const body = { text: $("text").value };
    const title = $("title").value.trim();
    if (title) body.title = title;
    if (ENDPOINTS[action].summary) {
      const limit = $("max-sentences").value;
      if (/^\d+$/.test(limit)) body.max_sentences = Number(limit);
      else if (limit) body.length = limit; // a preset: brief, standard or reference
      body.return_document = true;
    }
    if (ENDPOINTS[action].topic) {
      body.top_k = TOP_K;
      body.explain = true;
    }
    return body;
  }

  async function run(action) {
    if (busy) return;
    const endpoint = ENDPOINTS[action];
    clearError();
    if (!$("text").value.trim()) {
      hideResults();
      setStatus("Paste an article first.");
      const empty = new ApiProblem(0, "", "The article text is empty; paste an article or a saved web page.");
      showError(empty, "Nothing to analyse");
      $("text").focus();
      return;
    }
    setBusy(true);
    setStatus(endpoint.busy, true);
    const started = performance.now();
    try {
      const data = await callApi(endpoint.path, articleRequest(action));
      hideResults();
      const prediction = action === "analyze" ? data.prediction : data;
      const summary = action === "analyze" ? data.summary : data;
      explainedTerms = endpoint.topic ? termPattern(prediction.explanation) : null;
      if (endpoint.topic) renderTopic(prediction);
      if (endpoint.summary) renderSummary(summary);
      renderCleaning(data.cleaning, endpoint.summary ? data.document : null);
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      // The status line is the live region: it says in one sentence what the panels below show.
      const found = [];
      if (endpoint.topic) found.push(
          prediction.needs_review
            ? "needs review (" + prediction.review_reason + ")"
            : "topic " + (prediction.topic || "none") + " (" + percent(prediction.score) + ")"
        );
      if (endpoint.summary) {
        const n = summary.sentences.length;
        found.push("a summary of " + n + " sentence" + (n === 1 ? "" : "s"));
      }
      const removed = data.cleaning.removed_lines;
      found.push(removed + " line" + (removed === 1 ? "" : "s") + " removed");
      setStatus(
        "Done in " + seconds + " s with " + data.model.name + " " + data.model.version + ": " + found.join(", ") + "."
      );
    } catch (problem) {
      hideResults();
      setStatus("The request failed.");
      showError(problem instanceof ApiProblem ? problem : new ApiProblem(0, "", String(problem)));
    } finally {
      setBusy(false);
      revealResults();
    }
  }

  async function loadModelInfo() {
    const target = $("model-info");
    try {
      const data = await callApi("v1/models");
      const model = data.models[0];
      target.replaceChildren(element("span", "model-name", model.name + " " + model.version));
      const parts = [];
      for (const [key, value] of Object.entries(Object.assign({}, model.metrics, model.summary_metrics || {}))) {
        if (typeof value !== "number") continue;
        parts.push((METRIC_NAMES[key] || key.replace(/_/g, " ")) + " " + value.toFixed(3));
      }
      const labels = model.labels.length + " topics";
      const trained = model.created ? "trained " + model.created.slice(0, 10) : "";
      target.append(
        document.createTextNode(
          " · " + [labels, trained].filter(Boolean).join(" · ") +
            (parts.length ? " · held-out " + parts.join(", ") : "")
        )
      );
    } catch (problem) {
      target.textContent =
        problem.status === 401
          ? "Model: enter the API key to see which model is served."
          : "Model: unknown (" + problem.message + ")";
    }
  }

  // A saved page is bytes in whatever charset its author chose: honour a BOM or a <meta charset>
  // near the top (as a browser does), else read it as UTF-8.
  const MAX_FILE_BYTES = 20 * 1000 * 1000;

  function declaredCharset(bytes) {
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return "utf-8";
    if (bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
    if (bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
    const head = new TextDecoder("latin1").decode(bytes.subarray(0, 2048));
    const found = /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head);
    return found ? found[1].toLowerCase() : "utf-8";
  }

  function decodeFile(buffer) {
    const bytes = new Uint8Array(buffer);
    try {
      return new TextDecoder(declaredCharset(bytes)).decode(bytes);
    } catch (unknownLabel) {
      return new TextDecoder("utf-8").decode(bytes);
    }
  }

  async function openFile(file) {
    clearError();
    if (file.size > MAX_FILE_BYTES) {
      showError(
        { message: file.name + " has " + file.size.toLocaleString("en-GB") + " bytes; open a page under 20 MB." },
        "The file is too large"
      );
      return;
    }
    try {
      $("text").value = decodeFile(await file.arrayBuffer());
    } catch (failure) {
      showError({ message: file.name + " could not be read: " + failure.message }, "The file could not be opened");
      return;
    }
    updateCount();
    setStatus("Opened " + file.name + ": press Analyse to see its topic and summary.");
    $("text").focus();
  }

  function updateCount() {
    const n = $("text").value.length;
    $("char-count").textContent = n.toLocaleString("en-GB") + " character" + (n === 1 ? "" : "s");
  }

  function start() {
    const keyInput = $("api-key");
    try {
      keyInput.value = sessionStorage.getItem(KEY_STORAGE) || "";
    } catch (failure) {
      // Storage may be blocked; the key then lasts as long as the page.
    }
    keyInput.addEventListener("change", function () {
      try {
        if (keyInput.value) sessionStorage.setItem(KEY_STORAGE, keyInput.value);
        else sessionStorage.removeItem(KEY_STORAGE);
      } catch (failure) {
        // as above
      }
      loadModelInfo();
    });

    $("article-form").addEventListener("submit", function (event) {
      event.preventDefault();
      run("analyze");
    });
    for (const id of ["classify", "summarize"]) {
      $(id).addEventListener("click", function () {
        run(id);
      });
    }
    $("example").addEventListener("click", function () {
      $("title").value = EXAMPLE_TITLE;
      $("text").value = EXAMPLE_TEXT;
      updateCount();
      $("text").focus();
    });
    $("file").addEventListener("change", function (event) {
      const file = event.target.files && event.target.files[0];
      if (file) openFile(file);
      event.target.value = ""; // so that opening the same file again fires a change
    });
    $("text").addEventListener("input", updateCount);
    $("article-form").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        run("analyze");
      }
    });
    $("show-removed").addEventListener("change", function (event) {
      $("document").classList.toggle("hide-removed", !event.target.checked);
    });
    updateCount();
    loadModelInfo();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
