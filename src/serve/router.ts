import { HttpError } from './http-util.js';

export type RouteName = 'search' | 'versions' | 'activate' | 'rollback' | 'healthz' | 'metrics';

export interface RouteMatch {
  route: RouteName;
  /** Methods the path answers (HEAD wherever GET is). */
  allow: readonly string[];
  /** The version key of `/v1/versions/:key/...`, percent-decoded. */
  key?: string;
}

const GET = ['GET', 'HEAD'] as const;
const POST = ['POST'] as const;

/**
 * The route of a request target, or undefined when no route has this path.
 * Throws a 400 for a target that is not a path, or whose percent-escapes do
 * not decode (before anything else looks at the request, the token included).
 */
export function matchRoute(target: string | undefined): RouteMatch | undefined {
  const segments = pathSegments(target ?? '/');
  const path = segments.join('/');
  if (path === 'v1/search') return { route: 'search', allow: POST };
  if (path === 'v1/versions') return { route: 'versions', allow: GET };
  if (path === 'v1/rollback') return { route: 'rollback', allow: POST };
  if (path === 'healthz') return { route: 'healthz', allow: GET };
  if (path === 'metrics') return { route: 'metrics', allow: GET };
  if (
    segments.length === 4 &&
    segments[0] === 'v1' &&
    segments[1] === 'versions' &&
    (segments[3] === 'activate' || segments[3] === 'rollback')
  ) {
    return { route: segments[3] as 'activate' | 'rollback', allow: POST, key: decodeSegment(segments[2]!) };
  }
  return undefined;
}

/** The raw (still escaped) segments of the path of a request target: origin form (`/a/b?q`) or absolute form. */
function pathSegments(target: string): string[] {
  let path: string;
  if (target.startsWith('/')) {
    path = target.replace(/[?#].*$/s, '');
  } else {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new HttpError(
        400,
        'bad_path',
        'the request target is not a path: send /v1/search, /v1/versions, /healthz, ...',
      );
    }
    path = url.pathname;
  }
  // Every segment must decode, even of a path no route has: a bad escape is the client's error.
  const segments = path.split('/').slice(1);
  for (const s of segments) decodeSegment(s);
  return segments;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(
      400,
      'bad_path',
      `the path has a malformed percent-escape in "${segment.slice(0, 100)}": escape "%" as %25`,
    );
  }
}
