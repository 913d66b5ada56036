// The autoscaler page keeps itself current by fetching itself and swapping its <main>, not
// by reloading: a reload is a navigation, which restarts what a person was reading and
// never lets a headless browser's virtual-time capture settle. Without scripts the page's
// <noscript> refresh reloads it instead.
(() => {
  const main = document.querySelector('main[data-refresh-seconds]');
  if (!main) return;
  const every = Number(main.dataset.refreshSeconds) * 1000;
  const update = async () => {
    try {
      const response = await fetch(location.pathname + location.search, { headers: { accept: 'text/html' }, cache: 'no-store' });
      if (response.ok) {
        const next = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('main');
        if (next) document.querySelector('main').replaceWith(next);
      }
    } catch {
      // the orchestrator is away for a moment: the next look tries again
    }
    setTimeout(update, every);
  };
  setTimeout(update, every);
})();
