import { Type, type Static } from '@sinclair/typebox';
import { FILE_LIMITS, METRIC_LIMITS, THUMBNAIL_LIMITS } from '../../lib/limits.js';
import { IsoDate, Uuid } from '../../lib/schemas.js';

/** `/experiments/:id/files/*`: the rest of the URL is the file's path (published as `{path}`). */
export const FilePathParams = Type.Object({
  id: Uuid,
  '*': Type.String({
    title: 'path',
    minLength: 1,
    maxLength: FILE_LIMITS.pathLength,
    description: 'The file path, `/`-separated',
  }),
});

/** `/experiments/:id/media/*`: the rest of the URL is the image's key (published as `{name}`). */
export const MediaNameParams = Type.Object({
  id: Uuid,
  '*': Type.String({
    title: 'name',
    minLength: 1,
    maxLength: FILE_LIMITS.mediaNameLength,
    description: `The image's key, \`/\`-separated segments (at most ${FILE_LIMITS.mediaNameLength} characters)`,
  }),
});

const FileEntry = Type.Object({
  path: Type.String(),
  size: Type.Integer({ minimum: 0 }),
  sha256: Type.String({ description: 'SHA-256 of the bytes, hex; also the download ETag' }),
  contentType: Type.String({ description: 'From the file name (or the sniffed image type)' }),
  updatedAt: IsoDate,
});
export type FileEntryDto = Static<typeof FileEntry>;

export const FileResponse = Type.Object({ file: FileEntry });
export const FileList = Type.Object({ files: Type.Array(FileEntry) });

export const FileListQuery = Type.Object(
  {
    prefix: Type.Optional(
      Type.String({ maxLength: FILE_LIMITS.pathLength, description: 'Only paths starting with this string' }),
    ),
    after: Type.Optional(
      Type.String({
        maxLength: FILE_LIMITS.pathLength,
        description: 'Only paths after this one: the next page of a long listing',
      }),
    ),
  },
  { additionalProperties: false },
);

const MediaEntry = Type.Object({
  name: Type.String(),
  step: Type.Integer(),
  path: Type.String({ description: 'The image among the run’s files (download it from /files/{path})' }),
  contentType: Type.String(),
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  size: Type.Integer({ minimum: 0 }),
  thumbnailPath: Type.Union([Type.String(), Type.Null()], {
    description: 'A smaller copy among the run’s files (MLflow’s compressed copy), if any',
  }),
  thumbnail: Type.Boolean({
    description: `Tora made a smaller copy (WebP, at most ${THUMBNAIL_LIMITS.edge} px a side), in the background after the upload: GET /experiments/{id}/thumbnails/{path}`,
  }),
});
export type MediaEntryDto = Static<typeof MediaEntry>;

export const MediaResponse = Type.Object({ media: MediaEntry });
export const MediaList = Type.Object({ media: Type.Array(MediaEntry) });

const Step = Type.Integer({ minimum: 0, maximum: METRIC_LIMITS.maxStep });
// MLflow's images may be logged at negative steps.
const AnyStep = Type.Integer({ minimum: -METRIC_LIMITS.maxStep, maximum: METRIC_LIMITS.maxStep });

export const MediaPutQuery = Type.Object(
  { step: Type.Optional({ ...Step, description: 'Default: one past the highest step of this key (0 for its first image)' }) },
  { additionalProperties: false },
);

export const MediaListQuery = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: FILE_LIMITS.mediaNameLength })),
    from: Type.Optional({ ...AnyStep, description: 'Lowest step (inclusive)' }),
    to: Type.Optional({ ...AnyStep, description: 'Highest step (inclusive)' }),
  },
  { additionalProperties: false },
);
