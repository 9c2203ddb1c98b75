// Starts GraphiQL (loaded by the page from CATALOG_API__GRAPHIQL_ASSETS_URL) against this server's /graphql.
// A file of its own rather than an inline script, so the page's Content-Security-Policy can forbid inline script.
(function () {
  "use strict";
  var token = window.localStorage.getItem("catalog-token");
  var fetcher = GraphiQL.createFetcher({
    url: window.location.pathname,
    headers: token ? { Authorization: "Bearer " + token } : {},
  });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true }));
})();
