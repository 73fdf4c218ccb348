// What both tabs of the page share: the device badge and the notice line in the header (each tab
// keeps its own and the active tab's is shown), reading a settings form, and saving a download.
import type { DeviceReport } from './protocol.js';

export type TabName = 'gpt' | 'mnist';

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface TabStatus { device: DeviceReport | null; notice: string; error: boolean }
const status: Record<TabName, TabStatus> = {
  gpt: { device: null, notice: '', error: false },
  mnist: { device: null, notice: '', error: false },
};
let active: TabName = 'gpt';

function render(): void {
  const s = status[active];
  const badge = $('device');
  const d = s.device;
  badge.classList.toggle('cpu', d?.device === 'cpu');
  badge.textContent = !d ? 'looking for WebGPU…'
    : d.device === 'webgpu' ? `WebGPU · ${d.adapter}${d.software ? ' (software)' : ''}`
      : `cpu · WebAssembly, ${d.threads} thread${d.threads === 1 ? '' : 's'}`;
  badge.title = badge.textContent;
  const n = $('notice');
  n.hidden = s.notice === '';
  n.textContent = s.notice;
  n.classList.toggle('error', s.error);
}

export function setActiveTab(tab: TabName): void {
  active = tab;
  render();
}

export function notice(tab: TabName, message: string, kind: 'info' | 'error' = 'info'): void {
  Object.assign(status[tab], { notice: message, error: kind === 'error' });
  render();
}

/** Shows where `tab` trains, and says why when it is not WebGPU. */
export function showDevice(tab: TabName, d: DeviceReport): void {
  status[tab].device = d;
  const threads = `${d.threads} thread${d.threads === 1 ? '' : 's'}`;
  const parts: string[] = [];
  if (d.fallbackReason) parts.push(`WebGPU is not available in this browser (${d.fallbackReason}), so the model trains on the cpu device (WebAssembly, ${threads}).`);
  if (d.softwareAdapter) {
    parts.push(`The only WebGPU adapter here, ${d.softwareAdapter}, is a software renderer and slower than the cpu device, so the model trains on the cpu device (WebAssembly, ${threads}). Choose device "webgpu" and Reset to use the adapter anyway.`);
  }
  if (d.device === 'cpu' && !d.crossOriginIsolated) {
    parts.push('This page is not cross-origin isolated (the server sent no COOP/COEP headers), so the cpu device runs on one thread.');
  }
  notice(tab, parts.join(' '));
}

/** Fills a form whose inputs are named after the fields of `values`. */
export function fillForm(form: HTMLFormElement, values: object): void {
  for (const [k, v] of Object.entries(values)) {
    const input = form.elements.namedItem(k) as HTMLInputElement | HTMLSelectElement | null;
    if (input) input.value = String(v);
  }
}

/** `defaults` with the form's values over them; a number outside its input's min/max is an error naming the field. */
export function readForm<T extends object>(form: HTMLFormElement, defaults: T): T {
  const s = { ...defaults } as Record<string, unknown>;
  for (const k of Object.keys(defaults)) {
    const input = form.elements.namedItem(k) as HTMLInputElement | HTMLSelectElement | null;
    if (!input) continue;
    if (input instanceof HTMLSelectElement) { s[k] = input.value; continue; }
    const v = Number(input.value);
    if (input.value.trim() === '' || !Number.isFinite(v) || v < Number(input.min) || v > Number(input.max)) {
      throw new RangeError(`${input.closest('label')?.firstChild?.textContent?.trim() ?? k} must be a number from ${input.min} to ${input.max}, got '${input.value}'`);
    }
    s[k] = input.step === 'any' ? v : Math.round(v);
  }
  return s as T;
}

/** Saves `bytes` as a file named `name` (an <a download> click on a Blob URL). */
export function saveFile(bytes: ArrayBuffer, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
