// DeleteGroups (key 42), versions 0-2. v2: flexible.
// Only empty groups can be deleted (NON_EMPTY_GROUP otherwise); their offsets go too.
// At most brook.max.groups.per.request groups: past it every group gets INVALID_REQUEST.
// Delete on each group is needed (GROUP_AUTHORIZATION_FAILED for that group otherwise).

import { ApiKey } from '../../../protocol/api-keys';
import { ApiHandler } from '../api-handler';
import { authorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import { ErrorCode } from '../../../protocol/errors';
import { DEFAULT_GROUPS_PER_REQUEST_MAX } from '../../group/coordinator';

export const deleteGroups: ApiHandler<typeof ApiKey.DeleteGroups> = {
  apiKey: ApiKey.DeleteGroups,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, request) {
    if (request.groupsNames.length > (ctx.broker.settings.maxGroupsPerRequest ?? DEFAULT_GROUPS_PER_REQUEST_MAX))
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, ctx.header.apiVersion);
    const results = request.groupsNames.map((groupId) => {
      if (!authorized(ctx, AclOperation.DELETE, ResourceType.GROUP, groupId))
        return { groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
      const precheck = ctx.broker.groups.precheck(groupId, true);
      return { groupId, errorCode: precheck !== ErrorCode.NONE ? precheck : ctx.broker.groups.deleteGroup(groupId) };
    });
    return { throttleTimeMs: 0, results };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: (request?.groupsNames ?? []).map((groupId: string) => ({ groupId, errorCode })),
    };
  },
};
