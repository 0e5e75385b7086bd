import { api, ApiError, type Role, type User, type Workspace } from '$lib/api';

const WORKSPACE_KEY = 'tora.workspace';
/** The switcher's "All workspaces": the dashboard over every workspace the user can read. */
export const ALL_WORKSPACES = 'all';
const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

/** Whether `role` is at least `needed` (viewer < editor < admin < owner). */
export function atLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[needed];
}

/** The signed-in user, their workspaces and the current one (remembered across visits). */
class Session {
  user = $state<User | null>(null);
  workspaces = $state<Workspace[]>([]);
  currentId = $state<string | null>(null);
  /** False until the first /auth/me answer, so pages do not flash the login form. */
  ready = $state(false);
  /** The one workspace chosen; null under "All workspaces" (`all` is then true). */
  readonly current = $derived(this.workspaces.find((w) => w.id === this.currentId) ?? null);
  readonly all = $derived(this.currentId === ALL_WORKSPACES);

  /** Loads the user; resolves to false when nobody is signed in. */
  async load(): Promise<boolean> {
    try {
      this.user = await api.me();
      await this.refreshWorkspaces();
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        this.user = null;
        return false;
      }
      throw e;
    } finally {
      this.ready = true;
    }
  }

  async signedIn(user: User): Promise<void> {
    this.user = user;
    await this.refreshWorkspaces();
  }

  async refreshWorkspaces(): Promise<void> {
    this.workspaces = await api.listWorkspaces();
    const remembered = localStorage.getItem(WORKSPACE_KEY);
    const pick = [this.currentId, remembered, this.user?.defaultWorkspaceId].find(
      (id) => id && (this.workspaces.some((w) => w.id === id) || (id === ALL_WORKSPACES && this.workspaces.length > 0)),
    );
    this.currentId = pick ?? this.workspaces[0]?.id ?? null;
  }

  select(id: string): void {
    this.currentId = id;
    localStorage.setItem(WORKSPACE_KEY, id);
  }

  /** The workspace's name, for rows listed under "All workspaces". */
  nameOf(workspaceId: string): string {
    return this.workspaces.find((w) => w.id === workspaceId)?.name ?? workspaceId;
  }

  roleIn(workspaceId: string | null | undefined): Role | undefined {
    return this.workspaces.find((w) => w.id === workspaceId)?.role;
  }

  async logout(): Promise<void> {
    await api.logout();
    this.user = null;
    this.workspaces = [];
    this.currentId = null;
  }
}

export const session = new Session();
