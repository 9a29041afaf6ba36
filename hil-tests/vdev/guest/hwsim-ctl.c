/*
 * hwsim-ctl: create and destroy mac80211_hwsim radios over generic netlink, the way a USB
 * adapter appears and disappears on a real device.
 *
 *   hwsim-ctl new NAME [CHANNELS]   create a radio whose wiphy is called NAME (prints its id)
 *   hwsim-ctl del NAME              destroy the radio whose wiphy is called NAME
 *
 * Plain C with no library beyond libc, built statically by hil-tests/vdev/build.
 * Numbers from include/uapi/... drivers/net/wireless/virtual/mac80211_hwsim.h (Linux 6.1).
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { HWSIM_CMD_NEW_RADIO = 4, HWSIM_CMD_DEL_RADIO = 5 };
enum { HWSIM_ATTR_CHANNELS = 9, HWSIM_ATTR_RADIO_NAME = 17 };

struct msg {
    struct nlmsghdr n;
    struct genlmsghdr g;
    char buf[512];
};

static void put_attr(struct msg *m, unsigned short type, const void *data, unsigned short len) {
    struct nlattr *a = (struct nlattr *)((char *)m + NLMSG_ALIGN(m->n.nlmsg_len));
    a->nla_type = type;
    a->nla_len = NLA_HDRLEN + len;
    memcpy((char *)a + NLA_HDRLEN, data, len);
    m->n.nlmsg_len = NLMSG_ALIGN(m->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* Sends m, reads the answer; returns the kernel's error (0 or -errno), or the value of the
 * first attribute of type want_attr (u16 family id / u32 radio id) through *out. */
static int talk(int fd, struct msg *m, unsigned short want_attr, unsigned int *out) {
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, m, m->n.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
        return -errno;
    char rbuf[8192];
    for (;;) {
        int len = recv(fd, rbuf, sizeof rbuf, 0);
        if (len < 0)
            return -errno;
        for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(h);
                return e->error;
            }
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
            struct genlmsghdr *g = NLMSG_DATA(h);
            int alen = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
            struct nlattr *a = (struct nlattr *)((char *)g + GENL_HDRLEN);
            while (alen >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= alen) {
                if ((a->nla_type & NLA_TYPE_MASK) == want_attr && out) {
                    if (a->nla_len - NLA_HDRLEN == 2)
                        *out = *(unsigned short *)((char *)a + NLA_HDRLEN);
                    else
                        *out = *(unsigned int *)((char *)a + NLA_HDRLEN);
                }
                alen -= NLA_ALIGN(a->nla_len);
                a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
            }
            if (!(h->nlmsg_flags & NLM_F_MULTI) && !(m->n.nlmsg_flags & NLM_F_ACK))
                return 0;
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "new") && strcmp(argv[1], "del"))) {
        fprintf(stderr, "usage: hwsim-ctl new NAME [CHANNELS] | del NAME\n");
        return 2;
    }
    int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    struct msg m;
    memset(&m, 0, sizeof m);
    m.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
    m.n.nlmsg_type = GENL_ID_CTRL;
    m.n.nlmsg_flags = NLM_F_REQUEST;
    m.n.nlmsg_seq = 1;
    m.g.cmd = CTRL_CMD_GETFAMILY;
    m.g.version = 1;
    put_attr(&m, CTRL_ATTR_FAMILY_NAME, "MAC80211_HWSIM", sizeof "MAC80211_HWSIM");
    unsigned int family = 0;
    int err = talk(fd, &m, CTRL_ATTR_FAMILY_ID, &family);
    if (err || !family) {
        fprintf(stderr, "hwsim-ctl: no MAC80211_HWSIM netlink family (%s): is mac80211_hwsim loaded?\n",
                strerror(-err));
        return 1;
    }

    memset(&m, 0, sizeof m);
    m.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
    m.n.nlmsg_type = family;
    m.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    m.n.nlmsg_seq = 2;
    m.g.version = 2;
    m.g.cmd = strcmp(argv[1], "new") == 0 ? HWSIM_CMD_NEW_RADIO : HWSIM_CMD_DEL_RADIO;
    put_attr(&m, HWSIM_ATTR_RADIO_NAME, argv[2], strlen(argv[2]));
    if (m.g.cmd == HWSIM_CMD_NEW_RADIO && argc > 3) {
        unsigned int ch = (unsigned int)atoi(argv[3]);
        put_attr(&m, HWSIM_ATTR_CHANNELS, &ch, sizeof ch);
    }
    err = talk(fd, &m, 0, NULL);
    /* NEW_RADIO answers with the new radio's id as a positive "error". */
    if (err < 0) {
        fprintf(stderr, "hwsim-ctl %s %s: %s\n", argv[1], argv[2], strerror(-err));
        return 1;
    }
    if (m.g.cmd == HWSIM_CMD_NEW_RADIO)
        printf("%d\n", err);
    return 0;
}
