/**
 * What `verify --conformance` runs: a named mode (a set of e2e tests, each with the images
 * its pods need) or a FOCUS regular expression of the user's.
 */

/** Where the e2e suite's own images live (test/utils/image/manifest.go). */
const E2E = 'registry.k8s.io/e2e-test-images';
export const AGNHOST = `${E2E}/agnhost`;
export const JESSIE_DNSUTILS = `${E2E}/jessie-dnsutils`;
export const PAUSE = 'registry.k8s.io/pause';

export interface TestGroup {
  /** The test's name as the suite prints it, without its [labels]. */
  title: string;
  /** A Go regular expression (ginkgo's focus) matching the test's full text. */
  pattern: string;
  /** Repositories (no tag) of the images the test's pods run; the tags come from `e2e.test --list-images`. */
  images: string[];
}

export interface Selection {
  mode: 'quick' | 'network' | 'focus';
  groups: TestGroup[];
}

/**
 * Never run: they disrupt the cluster, need exclusive use, are known flaky, or need a feature
 * gate or cloud provider the cluster was not asked for.
 */
export const DEFAULT_SKIP = String.raw`\[Serial\]|\[Disruptive\]|\[Flaky\]|\[Feature:[^\]]+\]|\[Provider:[^\]]+\]`;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A test by the words of its name; `exact` anchors its end at the [Conformance] label. */
function test(title: string, images: string[], exact = false): TestGroup {
  return { title, pattern: `${escapeRegExp(title)}${exact ? String.raw`\s+\[Conformance\]` : ''}`, images };
}

/** sonobuoy's quick mode: one pod created, seen and deleted. */
const QUICK = [test('[sig-node] Pods should be submitted and removed', [PAUSE])];

/**
 * The networking set: Service endpoints, NodePort, pod-to-pod and node-to-pod over HTTP and
 * UDP, and cluster DNS. All are [Conformance] tests that need only agnhost (on a userland:
 * the tests exec curl, nc and dig in it), and jessie-dnsutils for DNS.
 */
const NETWORK = [
  test('[sig-network] Services should serve a basic endpoint from pods', [AGNHOST]),
  test('[sig-network] Services should serve multiport endpoints from pods', [AGNHOST]),
  test('[sig-network] Services should be able to create a functioning NodePort service', [AGNHOST]),
  ...[
    'intra-pod communication: http',
    'intra-pod communication: udp',
    'node-pod communication: http',
    'node-pod communication: udp',
  ].map((what) =>
    test(`[sig-network] Networking Granular Checks: Pods should function for ${what}`, [AGNHOST]),
  ),
  // Exact: "for the cluster [Provider:GCE]" also resolves names outside the cluster.
  test('[sig-network] DNS should provide DNS for the cluster', [AGNHOST, JESSIE_DNSUTILS], true),
  test('[sig-network] DNS should provide DNS for services', [AGNHOST, JESSIE_DNSUTILS], true),
];

/** `quick`, `network`, or any other text as a focus regular expression (images unknown beforehand). */
export function selectionFor(selection: string): Selection {
  if (selection === 'quick') return { mode: 'quick', groups: QUICK };
  if (selection === 'network') return { mode: 'network', groups: NETWORK };
  return { mode: 'focus', groups: [{ title: selection, pattern: selection, images: [] }] };
}

/** One focus expression for the groups (ginkgo matches it against each test's full text). */
export function focusOf(groups: readonly TestGroup[]): string {
  return groups.length === 1 ? groups[0]!.pattern : groups.map((g) => `(${g.pattern})`).join('|');
}
