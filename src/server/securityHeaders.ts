/**
 * Security headers for every answer (@fastify/helmet), chosen so that bull-board's UI still works
 * (checked in a real browser by test/server/dashboard.browser.test.ts, which fails on any CSP violation):
 *
 * - scripts only from this server: the UI is a bundle under /dashboard/static, and its one inline
 *   `<script type="application/json">` holds data, which CSP does not block;
 * - styles from this server, inline (React sets `style` attributes, the loading screen has a
 *   `<style>`), and Google Fonts, which the UI links (fonts from fonts.gstatic.com);
 * - no framing by anyone (`frame-ancestors 'none'` and `X-Frame-Options: DENY`): no clickjacking of
 *   the dashboard's buttons (pause, retry, clean);
 * - `X-Content-Type-Options: nosniff`, no referrer, and no HSTS (the server speaks plain HTTP; TLS, if
 *   any, ends in front of it, where HSTS belongs).
 */
import type { FastifyHelmetOptions } from '@fastify/helmet';

export const SECURITY_HEADERS: FastifyHelmetOptions = {
  global: true,
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'", 'https://fonts.googleapis.com'],
      fontSrc: ["'self'", 'https://fonts.gstatic.com', 'data:'],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  noSniff: true,
  referrerPolicy: { policy: 'no-referrer' },
  hsts: false,
  crossOriginEmbedderPolicy: false,
};
