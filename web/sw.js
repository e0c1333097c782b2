// CLS Studio's service worker: after the first visit the app works offline. It caches the
// app shell, ONNX Runtime, the bundled model and the demo sets (the list build_web.sh writes
// into precache.json), answers from the network while there is one (so a rebuilt app is seen
// at once) and from the cache when there is none. It sees only this origin's requests, and
// the page never makes others.

const CACHE = 'cls-studio';

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const list = await (await fetch('precache.json', { cache: 'no-store' })).json();
    const cache = await caches.open(CACHE);
    await cache.addAll(['./', ...list.files]); // './': the page as navigated to
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(request);
      if (response.ok) await cache.put(request, response.clone());
      return response;
    } catch (offline) {
      const cached = await cache.match(request, { ignoreSearch: true });
      if (cached) return cached;
      throw offline;
    }
  })());
});
