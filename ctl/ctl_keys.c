/* herdctl host approve|revoke: the engine's enrollment actions on a host's
 * CURVE key (see README, "Adding a host"). */
#include "ctl_priv.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

int ctl_key_host_cmd(const ctl_opts_t *o, const char *verb, int argc,
                     char **argv)
{
    bool approve = strcmp(verb, "approve") == 0;
    bool revoke = strcmp(verb, "revoke") == 0;
    if (!approve && !revoke)
        return -1;
    char cmd[40];
    snprintf(cmd, sizeof(cmd), "host %s", verb);
    int rc = ctl_need_id(argc, argv, cmd);
    if (rc || (rc = ctl_extra(argc, argv, 1, cmd)))
        return rc;
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/hosts/%s/%s",
             ctl_seg(argv[0], seg, sizeof(seg)), verb);
    json_t *body = json_object();
    json_t *j = NULL;
    rc = ctl_call(o, "POST", path, body, &j);
    json_decref(body);
    if (rc)
        return rc;
    if (o->json)
        ctl_print_json(j);
    else
        printf("Host %s: %s\n", argv[0], approve
               ? "approved; it is taken in at its next hello"
               : "key revoked, host cut off");
    json_decref(j);
    return 0;
}
