/**
 * Admission to the expensive routes (POST /v1/rescans): at most `max` requests are parsed, validated
 * and enqueued at once; the others wait their turn without reading their bodies. Parsing, validating
 * and adding thousands of jobs is CPU work on the one event loop that also answers /healthz: a dozen
 * such requests at once kept the probe waiting for seconds (issue 10, point 11). Waiting costs nothing
 * but a socket; clients see a slower 202, not an error.
 */
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';

export class IntakeGate {
  private active = 0;
  /** Requests waiting for a place: calling one hands it the place. */
  private readonly waiting: (() => void)[] = [];

  constructor(readonly max: number) {}

  /**
   * Route hooks: take a place before the body is read. The place is given back when the response
   * closes, which it does exactly once however the request ends (answered, failed, or the client gone,
   * also while it waited).
   */
  hooks(): Pick<RouteShorthandOptions, 'preParsing'> {
    return {
      preParsing: async (req: FastifyRequest, reply: FastifyReply) => {
        let holding = false;
        let grant: (() => void) | undefined;
        reply.raw.once('close', () => {
          if (holding) {
            holding = false;
            this.release();
          } else if (grant) {
            this.waiting.splice(this.waiting.indexOf(grant), 1);
          }
        });
        if (this.active < this.max) {
          this.active++;
          holding = true;
        } else {
          await new Promise<void>((resolve) => {
            grant = () => {
              // Synchronous with release(): no moment where the place belongs to no one.
              grant = undefined;
              holding = true;
              resolve();
            };
            this.waiting.push(grant);
          });
        }
        // Gone before we could watch it close: give the place back now.
        if (req.raw.socket?.destroyed && holding) {
          holding = false;
          this.release();
        }
      },
    };
  }

  /** Requests waiting for a place. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Requests holding a place. */
  get inFlight(): number {
    return this.active;
  }

  private release(): void {
    const next = this.waiting.shift();
    // The place passes straight to the next request (`active` stays as it is).
    if (next) next();
    else this.active--;
  }
}
