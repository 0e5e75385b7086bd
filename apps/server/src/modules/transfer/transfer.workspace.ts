import type { AppContext } from '../../context.js';
import { AppError } from '../../errors.js';
import { roleIn } from '../workspaces/access.js';
import * as repo from '../workspaces/workspaces.repository.js';

/**
 * The workspace `--workspace` names: its id, or its name (the one workspace of that name; for an
 * import, among the importing user's workspaces). Names are what people see; ids are shown in the
 * workspace's settings page for when names repeat.
 */
export async function resolveWorkspace(ctx: AppContext, ref: string, memberId?: string): Promise<string> {
  const byId = await repo.workspaceById(ctx.db, ref);
  if (byId !== null) return byId;
  let found = await repo.workspaceIdsByName(ctx.db, ref.trim());
  if (memberId !== undefined) {
    const mine: string[] = [];
    for (const id of found) if ((await roleIn(ctx.db, memberId, id, { includeTrashed: true })) !== null) mine.push(id);
    found = mine;
  }
  if (found.length === 0) {
    throw new AppError('WORKSPACE_NOT_FOUND', 404, `No workspace with id or name "${ref}"`);
  }
  if (found.length > 1) {
    throw new AppError(
      'VALIDATION_ERROR',
      400,
      `${found.length} workspaces are named "${ref}" (ids ${found.join(', ')}); pass the id (shown in the workspace's settings)`,
    );
  }
  return found[0]!;
}
