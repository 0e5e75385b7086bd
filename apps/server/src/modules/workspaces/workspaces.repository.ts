import { sql, type Kysely } from 'kysely';
import type { DB, Role } from '../../db/schema.js';
import { workspaceNotMlflowDeleted } from '../mlflow/mlflow.visibility.js';

export async function insertWorkspace(
  db: Kysely<DB>,
  ws: { id: string; name: string; description: string; created_at: number },
  ownerId: string,
): Promise<void> {
  await db
    .insertInto('workspaces')
    .values({ ...ws, updated_at: ws.created_at })
    .execute();
  await db
    .insertInto('workspace_members')
    .values({ workspace_id: ws.id, user_id: ownerId, role: 'owner', created_at: ws.created_at })
    .execute();
}

export function listForUser(db: Kysely<DB>, userId: string) {
  return db
    .selectFrom('workspaces as w')
    .innerJoin('workspace_members as m', 'm.workspace_id', 'w.id')
    .select(['w.id', 'w.name', 'w.description', 'w.created_at', 'w.updated_at', 'm.role'])
    .where('m.user_id', '=', userId)
    .where(workspaceNotMlflowDeleted(sql.ref('w.id')))
    .orderBy('w.created_at')
    .orderBy('w.id')
    .execute();
}

export function findWorkspace(db: Kysely<DB>, id: string) {
  return db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateWorkspace(
  db: Kysely<DB>,
  id: string,
  patch: { name?: string; description?: string; updated_at: number },
): Promise<void> {
  await db.updateTable('workspaces').set(patch).where('id', '=', id).execute();
}

export async function deleteWorkspace(db: Kysely<DB>, id: string): Promise<void> {
  // Explicit child deletes: SQLite and PostgreSQL cascade alike, but blocks are the bulk and go first.
  const experiments = db.selectFrom('experiments').select('id').where('workspace_id', '=', id);
  const series = db.selectFrom('metric_series').select('id').where('experiment_id', 'in', experiments);
  await db.deleteFrom('metric_blocks').where('series_id', 'in', series).execute();
  await db.deleteFrom('metric_series').where('experiment_id', 'in', experiments).execute();
  await db.deleteFrom('metric_batches').where('experiment_id', 'in', experiments).execute();
  await db.deleteFrom('experiment_tags').where('experiment_id', 'in', experiments).execute();
  await db.deleteFrom('experiment_hyperparams').where('experiment_id', 'in', experiments).execute();
  await db.updateTable('experiments').set({ reference_id: null }).where('reference_id', 'in', experiments).execute();
  await db.deleteFrom('experiments').where('workspace_id', '=', id).execute();
  await db.deleteFrom('workspace_members').where('workspace_id', '=', id).execute();
  await db.updateTable('users').set({ default_workspace_id: null }).where('default_workspace_id', '=', id).execute();
  await db.deleteFrom('workspaces').where('id', '=', id).execute();
}

export function listMembers(db: Kysely<DB>, workspaceId: string) {
  return db
    .selectFrom('workspace_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.user_id', 'u.email', 'm.role', 'm.created_at'])
    .where('m.workspace_id', '=', workspaceId)
    .orderBy('m.created_at')
    .orderBy('u.email')
    .execute();
}

export async function insertMember(
  db: Kysely<DB>,
  member: { workspace_id: string; user_id: string; role: Role; created_at: number },
): Promise<void> {
  await db.insertInto('workspace_members').values(member).execute();
}

export async function setMemberRole(db: Kysely<DB>, workspaceId: string, userId: string, role: Role): Promise<void> {
  await db
    .updateTable('workspace_members')
    .set({ role })
    .where('workspace_id', '=', workspaceId)
    .where('user_id', '=', userId)
    .execute();
}

export async function deleteMember(db: Kysely<DB>, workspaceId: string, userId: string): Promise<void> {
  await db.deleteFrom('workspace_members').where('workspace_id', '=', workspaceId).where('user_id', '=', userId).execute();
}

export async function countOwners(db: Kysely<DB>, workspaceId: string): Promise<number> {
  const row = await db
    .selectFrom('workspace_members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
