// Inside the extension host: what the workbench shows, read (and clicked) through the shim's UI
// probe (test/vscode/lib/uiProbe.mjs), so tests check the real status bar and notifications.

export interface StatusBarEntry {
  id: string;
  text: string;
  label: string;
  visible: boolean;
}

export interface ShownNotification {
  message: string;
  buttons: string[];
}

async function probe<T>(route: string, params: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const base = process.env.KRD_UI_PROBE;
  if (!base) {
    throw new Error('KRD_UI_PROBE is not set; run the suite through test/vscode/code-shim (runWithNode.mjs or runIntegration.mjs).');
  }
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`${base}/${route}${query ? `?${query}` : ''}`, { signal: AbortSignal.timeout(20_000) });
  return { status: response.status, body: (await response.json()) as T };
}

export async function statusBarEntries(): Promise<StatusBarEntry[]> {
  const { status, body } = await probe<StatusBarEntry[] | { error: string }>('status-bar');
  if (status !== 200) {
    throw new Error(`UI probe: ${(body as { error: string }).error}`);
  }
  return body as StatusBarEntry[];
}

export async function notifications(): Promise<ShownNotification[]> {
  const { status, body } = await probe<ShownNotification[] | { error: string }>('notifications');
  if (status !== 200) {
    throw new Error(`UI probe: ${(body as { error: string }).error}`);
  }
  return body as ShownNotification[];
}

/** Clicks `button` on the one visible notification whose text contains `message`; false when there is none. */
export async function clickNotificationButton(message: string, button: string): Promise<boolean> {
  const { status, body } = await probe<{ clicked?: boolean; error?: string }>('notifications/click', { message, button });
  if (status === 404) {
    return false;
  }
  if (status !== 200) {
    throw new Error(`UI probe: ${body.error}`);
  }
  return body.clicked === true;
}
