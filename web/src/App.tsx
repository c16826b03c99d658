import { lazy, Suspense, useEffect } from "react";
import { dismissError, followHash } from "./state/actions";
import { useStore, type Route } from "./state/store";
import { CatalogPage } from "./pages/CatalogPage";
import { HistoryPage } from "./pages/HistoryPage";

// The catalog is the first screen: it loads alone; the canvas, charts and editor come with the
// pages that use them.
const PatternPage = lazy(() => import("./pages/PatternPage").then((m) => ({ default: m.PatternPage })));
const DesignerPage = lazy(() => import("./pages/DesignerPage").then((m) => ({ default: m.DesignerPage })));
const RunPage = lazy(() => import("./pages/RunPage").then((m) => ({ default: m.RunPage })));
const ComparePage = lazy(() => import("./pages/ComparePage").then((m) => ({ default: m.ComparePage })));
const SweepPage = lazy(() => import("./pages/SweepPage").then((m) => ({ default: m.SweepPage })));
const NewSweepPage = lazy(() => import("./pages/SweepPage").then((m) => ({ default: m.NewSweepPage })));
const GeneratePage = lazy(() => import("./pages/GeneratePage").then((m) => ({ default: m.GeneratePage })));

const NAV: { page: Route["page"]; label: string; href: string }[] = [
  { page: "catalog", label: "Catalog", href: "#/catalog" },
  { page: "compare", label: "Compare", href: "#/compare" },
  { page: "history", label: "History", href: "#/history" },
];

export function App() {
  const route = useStore((s) => s.route);
  const error = useStore((s) => s.error);
  const designerId = useStore((s) => s.designer?.id ?? null);
  useEffect(() => {
    window.addEventListener("hashchange", followHash);
    return () => window.removeEventListener("hashchange", followHash);
  }, []);
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href="#/catalog">
          ScaleSim Patterns
        </a>
        <nav aria-label="pages">
          {NAV.map((n) => (
            <a key={n.page} href={n.href} aria-current={route.page === n.page || (n.page === "catalog" && route.page === "pattern") ? "page" : undefined}>
              {n.label}
            </a>
          ))}
          {designerId !== null && (
            <a href={`#/designer/${designerId}`} aria-current={route.page === "designer" || route.page === "run" ? "page" : undefined}>
              Designer
            </a>
          )}
        </nav>
      </header>
      {error && (
        <div className="banner-error" role="alert" data-testid="error-banner">
          <span>{error}</span>
          <button type="button" onClick={dismissError} aria-label="dismiss">
            ✕
          </button>
        </div>
      )}
      <main id="main">
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Page route={route} />
        </Suspense>
      </main>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "catalog":
      return <CatalogPage />;
    case "pattern":
      return <PatternPage id={route.id} />;
    case "designer":
      return <DesignerPage id={route.id} />;
    case "run":
      return <RunPage id={route.id} />;
    case "compare":
      return <ComparePage />;
    case "sweep":
      return <SweepPage id={route.id} />;
    case "sweep-new":
      return <NewSweepPage arch={route.arch} />;
    case "generate":
      return <GeneratePage id={route.id} version={route.version} />;
    case "history":
      return <HistoryPage />;
  }
}
