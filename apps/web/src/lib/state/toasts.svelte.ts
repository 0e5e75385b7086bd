import { ApiError } from '$lib/api';

interface Toast {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

/** Short messages shown in a live region at the bottom of the page. */
class Toasts {
  items = $state<Toast[]>([]);
  private next = 1;

  push(text: string, kind: Toast['kind'] = 'info', ms = 6000): void {
    const id = this.next++;
    this.items = [...this.items, { id, kind, text }];
    setTimeout(() => this.dismiss(id), ms);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}

export const toasts = new Toasts();

/** The one place errors are turned into words for the user: the server's own message when there is one. */
export function handleError(err: unknown): string {
  if (err instanceof DOMException && err.name === 'AbortError') return '';
  const text = err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err);
  if (!(err instanceof ApiError)) console.error(err);
  toasts.push(text, 'error');
  return text;
}
