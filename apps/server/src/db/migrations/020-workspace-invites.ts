import type { Kysely } from 'kysely';

// Frozen in time. Invite links to a workspace (modules/invites): a single-use, expiring token that
// lets someone without an account sign up (even with signup closed) and join with the given role.
// Only the token's SHA-256 is stored; deleting the workspace or its creator deletes its invites.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('workspace_invites')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('used_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('workspace_invites_workspace_idx').on('workspace_invites').column('workspace_id').execute();
}
