/** Kubernetes minors kubesmith can install; the newest three upstream releases plus one older. */
export const SUPPORTED_KUBERNETES_MINORS = ['1.34', '1.35', '1.36', '1.37'] as const;

export function minorOf(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

export function isSupportedKubernetesVersion(version: string): boolean {
  return (SUPPORTED_KUBERNETES_MINORS as readonly string[]).includes(minorOf(version));
}
