import type { ListOptions, PrincipalStore } from './types.js';

/** Every matching name, page by page (for CLI listings and dumps). */
export async function* listAll(store: PrincipalStore, options: Omit<ListOptions, 'after'> = {}): AsyncGenerator<string> {
  let after: string | undefined;
  for (;;) {
    const page = await store.list(after === undefined ? options : { ...options, after });
    yield* page.names;
    if (page.next === undefined) return;
    after = page.next;
  }
}
