// The built-in query console at /graphql: posts the query, its variables and the token to this server's /graphql
// and shows the answer. Written for this project; it loads nothing from anywhere else.
(function () {
  "use strict";
  var form = document.getElementById("console");
  var result = document.getElementById("result");
  var token = document.getElementById("token");
  token.value = window.sessionStorage.getItem("catalog-token") || "";

  function show(text) {
    result.textContent = text;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = { query: document.getElementById("query").value };
    var variables = document.getElementById("variables").value.trim();
    if (variables) {
      try {
        body.variables = JSON.parse(variables);
      } catch (problem) {
        show("variables: expected a JSON object, such as {\"id\": \"health.admissions\"} (" + problem.message + ")");
        return;
      }
    }
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    var bearer = token.value.trim();
    window.sessionStorage.setItem("catalog-token", bearer);
    if (bearer) {
      headers.Authorization = "Bearer " + bearer;
    }
    show("Running\u2026");
    fetch(window.location.pathname, { method: "POST", headers: headers, body: JSON.stringify(body) })
      .then(function (response) { return response.text(); })
      .then(function (text) {
        try {
          show(JSON.stringify(JSON.parse(text), null, 2));
        } catch (notJson) {
          show(text);
        }
      })
      .catch(function (problem) { show("The request failed: " + problem.message); });
  });
})();
