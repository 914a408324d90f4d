/**
 * Declaration merging so `req.auth` is typed in handlers behind the adapters,
 * without a cast: Express's `Request` (through its global `Express`
 * namespace, which @types/express merges into its Request) and Fastify's
 * `FastifyRequest` (module augmentation; Fastify ships its own types).
 * Neither framework is imported at run time.
 */

import type { NegotiateAuth } from './negotiate-server.js';

declare global {
  namespace Express {
    interface Request {
      /** Who authenticated: set by `negotiateExpress` before the route's handlers run. */
      auth: NegotiateAuth;
    }
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who authenticated: set by the `negotiateFastify` plugin's onRequest hook. */
    auth: NegotiateAuth;
  }
}

export {};
