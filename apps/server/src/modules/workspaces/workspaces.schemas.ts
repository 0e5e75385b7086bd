import { Type } from '@sinclair/typebox';
import { ACCOUNT_LIMITS, WORKSPACE_LIMITS } from '../../lib/limits.js';
import { IsoDate, RoleSchema, Uuid } from '../../lib/schemas.js';

export const Workspace = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Type.String(),
  role: RoleSchema,
  createdAt: IsoDate,
  updatedAt: IsoDate,
});

const Name = Type.String({ minLength: 1, maxLength: WORKSPACE_LIMITS.nameLength, pattern: '\\S' });
const Description = Type.String({ maxLength: WORKSPACE_LIMITS.descriptionLength });

export const CreateWorkspaceBody = Type.Object(
  { name: Name, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export const UpdateWorkspaceBody = Type.Object(
  { name: Type.Optional(Name), description: Type.Optional(Description) },
  { additionalProperties: false },
);

export const Member = Type.Object({ userId: Uuid, email: Type.String(), role: RoleSchema, createdAt: IsoDate });
export const AddMemberBody = Type.Object(
  { email: Type.String({ minLength: 3, maxLength: ACCOUNT_LIMITS.emailLength }), role: RoleSchema },
  { additionalProperties: false },
);
export const UpdateMemberBody = Type.Object({ role: RoleSchema }, { additionalProperties: false });
export const MemberParams = Type.Object({ id: Uuid, userId: Uuid });
