// The browser's own storage for what should survive a reload: the app's settings and kept
// calibrations (JSON strings under a few keys), in IndexedDB. Local to this browser profile;
// nothing here is ever sent anywhere. Failures (private windows, quota) only lose persistence.

const DB_NAME = 'cls-studio';
const STORE = 'kept';

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let dbPromise;
function db() {
  dbPromise ??= open();
  return dbPromise;
}

function transaction(mode, use) {
  return db().then((database) => new Promise((resolve, reject) => {
    const tx = database.transaction(STORE, mode);
    const result = use(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  }));
}

let writes = Promise.resolve(); // in order, so the last write of a key wins

export function save(key, json) {
  writes = writes.then(() => transaction('readwrite', (store) => store.put(json, key))).catch((error) =>
    console.warn(`CLS Studio could not keep ${key} in this browser: ${error.message}`));
  return writes;
}

// Resolves once every write asked for so far is stored.
export function settled() {
  return writes;
}

// Every stored [key, json] pair.
export async function loadAll() {
  try {
    const [keys, values] = await Promise.all([
      transaction('readonly', (store) => store.getAllKeys()),
      transaction('readonly', (store) => store.getAll()),
    ]);
    return keys.map((key, i) => [key, values[i]]);
  } catch (error) {
    console.warn(`CLS Studio could not read what this browser kept: ${error.message}`);
    return [];
  }
}
