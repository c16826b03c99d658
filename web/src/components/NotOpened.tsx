/** What a page shows instead of a blank screen when its item could not be loaded. */
export function NotOpened({ what }: { what: string }) {
  return (
    <div className="not-opened" data-testid="not-opened">
      <h1>Could not open {what}</h1>
      <p>
        The reason is above. Open one from the <a href="#/history">history</a> or start from a template in the <a href="#/catalog">catalog</a>.
      </p>
    </div>
  );
}
