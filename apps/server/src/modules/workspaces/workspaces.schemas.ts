import { Type } from '@sinclair/typebox';
import { IsoDate, Uuid } from '../../lib/schemas.js';

export const RoleSchema = Type.Union([
  Type.Literal('viewer'),
  Type.Literal('editor'),
  Type.Literal('admin'),
  Type.Literal('owner'),
]);

export const Workspace = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Type.String(),
  role: RoleSchema,
  createdAt: IsoDate,
  updatedAt: IsoDate,
});

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Description = Type.String({ maxLength: 5000 });

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
  { email: Type.String({ minLength: 3, maxLength: 320 }), role: RoleSchema },
  { additionalProperties: false },
);
export const UpdateMemberBody = Type.Object({ role: RoleSchema }, { additionalProperties: false });
export const MemberParams = Type.Object({ id: Uuid, userId: Uuid });
