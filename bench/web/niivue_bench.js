// NiiVue's side of the first-slice comparison: the same file from the same server, timed from
// the start of the fetch to the first frame drawn with the volume in it.
import { Niivue } from './niivue/index.js';

const nv = new Niivue({ show3Dcrosshair: false });
await nv.attachTo('gl');
nv.setSliceType(nv.sliceTypeMultiplanar);

window.firstSlice = async (url) => {
  const start = performance.now();
  await nv.loadVolumes([{ url }]);
  nv.drawScene();
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return performance.now() - start;
};
window.dispatchEvent(new Event('bench-ready'));
