import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { loadCatalog } from "./state/actions";
import { getState } from "./state/store";
import "./styles.css";

// The catalog is the first screen of most visits: ask for it before React's first render.
if (getState().route.page === "catalog") void loadCatalog();

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
