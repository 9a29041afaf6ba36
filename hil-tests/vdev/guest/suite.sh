#!/bin/sh
# The virtual-device suite, run by /init inside the guest (busybox sh).
#
# One line per check on the console:
#   VDEV-RESULT PASS name (1.2 s)
#   VDEV-RESULT FAIL name: why
#   VDEV-RESULT SKIP name: why
# A check is a shell function run in a subshell: it returns 0 (pass), 77 (skip) or anything
# else (fail); the last line it prints is the reason. Checks share the radios that the setup
# checks bring up, but each one states what it needs and skips or fails on its own.
#
# Profile (first argument): short (CI) or long (longer captures, more outage cycles).
#
# Radio plan (mac80211_hwsim radios=11, interface wlanN on radio N):
#   wlan0..wlan5  six hostapd APs, see AP_TABLE
#   wlan6         wpa_supplicant client of vdev-wpa2 (sends ARP so it is seen in data frames)
#   wlan7         client of the hidden AP (scan_ssid=1: its probes reveal the SSID)
#   wlan8         managed radio for the scan fallback
#   wlan9         monitor smoke test (iw + tcpdump, no piwardrive)
#   wlan10        spare
#   radio "vdevcap" (made with hwsim-ctl, so it can be destroyed and re-created): piwardrive's
#                 capture radio
PROFILE=${1:-short}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
W=/tmp/vdev
mkdir -p "$W"
RADIOS=11
COUNTRY=US
CAPTURE_SECS=30
SCAN_SECS=60
OUTAGE_CYCLES=1
if [ "$PROFILE" = long ]; then
    OUTAGE_CYCLES=3
fi

# tag|iface|channel|hw_mode|security|ssid (security: open wpa2 sae transition; ssid in hex
# where it holds markup). enc_class is what `piwardrive networks --format tsv` must print.
AP_TABLE='open|wlan0|1|g|open|vdev-open|OPEN
wpa2|wlan1|6|g|wpa2|vdev-wpa2|WPA2
sae|wlan2|36|a|sae|vdev-sae|WPA3
transition|wlan3|44|a|transition|vdev-transition|WPA2/WPA3
hidden|wlan4|11|g|wpa2|vdev-hidden|WPA2
markup|wlan5|149|a|open|<script>"x'"'"'&</script>|OPEN'
PSK=vdev-passphrase-1234

now() { cut -d' ' -f1 /proc/uptime; }
hexstr() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
mac_of() { cat "/sys/class/net/$1/address" 2>/dev/null; }
phy_of() { cat "/sys/class/net/$1/phy80211/name" 2>/dev/null; }
ap_field() { echo "$AP_TABLE" | awk -F'|' -v t="$1" -v f="$2" '$1 == t { print $f }'; }
# wait_for SECONDS COMMAND...: polls every 0.5 s.
wait_for() {
    _t=$1; shift
    _end=$(awk -v n="$(now)" -v t="$_t" 'BEGIN { print n + t }')
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        awk -v n="$(now)" -v e="$_end" 'BEGIN { exit !(n >= e) }' && return 1
        sleep 0.5
    done
}

FAILED=0
PASSED=0
SKIPPED=0
check() {
    name=$1; shift
    if [ -n "${VDEV_ONLY:-}" ] && ! echo ",$VDEV_ONLY," | grep -q ",$name,"; then
        return 0
    fi
    t0=$(now)
    out="$W/check-$name.log"
    ( "$@" ) > "$out" 2>&1
    rc=$?
    why=$(grep -v '^[[:space:]]*$' "$out" | tail -n 1)
    stop_leftover_runs >> "$out" 2>&1
    dt=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    case $rc in
        0) PASSED=$((PASSED + 1)); echo "VDEV-RESULT PASS $name ($dt s)"
           [ -z "${VDEV_VERBOSE:-}" ] || sed 's/^/    | /' "$out" | tail -n 25 ;;
        77) SKIPPED=$((SKIPPED + 1)); echo "VDEV-RESULT SKIP $name: ${why:-skipped}" ;;
        *) FAILED=$((FAILED + 1)); echo "VDEV-RESULT FAIL $name: ${why:-exit $rc} ($dt s)"
           # The detail, for whoever reads the console log.
           sed 's/^/    | /' "$out" | tail -n 25 ;;
    esac
}

# A check that fails half-way may leave its `piwardrive run` behind, holding the radio and
# port 8080; stop it so that the next check starts clean.
stop_leftover_runs() {
    for f in "$W"/run-*.pid; do
        [ -e "$f" ] || continue
        pid=$(cat "$f")
        if kill -0 "$pid" 2>/dev/null; then
            echo "stopping a leftover piwardrive run ($f)"
            kill -INT "$pid" 2>/dev/null
            wait_for 20 sh -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
        fi
        rm -f "$f"
    done
}

# ------------------------------------------------------------------ infrastructure checks

c_hwsim_radios() {
    modprobe mac80211_hwsim radios=$RADIOS || { echo "modprobe mac80211_hwsim failed"; return 1; }
    n=$(ls /sys/class/ieee80211 | wc -l)
    [ "$n" -ge "$RADIOS" ] || { echo "$n radios, want $RADIOS"; return 1; }
    for i in $(seq 0 $((RADIOS - 1))); do
        [ -e "/sys/class/net/wlan$i" ] || { echo "no wlan$i"; return 1; }
    done
    # Modules hostapd needs for CCMP/GCMP/BIP and SAE (missing ones: "key addition failed").
    for m in ccm gcm ctr cmac; do
        modprobe "$m" 2>/dev/null || grep -q "/$m.ko" "/lib/modules/$(uname -r)/modules.builtin" \
            || { echo "crypto module $m missing"; return 1; }
    done
    echo "$n radios"
}

c_regulatory() {
    iw reg set "$COUNTRY"
    wait_for 10 sh -c "iw reg get | grep -q 'country $COUNTRY'" || {
        iw reg get; dmesg | grep -i regulatory | tail -n 5; echo "regulatory domain not set to $COUNTRY"; return 1; }
    if dmesg | grep -q 'failed to load regulatory.db'; then
        echo "kernel: failed to load regulatory.db"; return 1
    fi
    # 5 GHz channels must be usable for beaconing (not no-IR) on the AP radios.
    iw phy "$(phy_of wlan2)" info | grep -E '5180 MHz' | grep -qv 'disabled' || { echo "5180 MHz disabled"; return 1; }
    echo "country $COUNTRY"
}

write_hostapd_conf() {
    tag=$1
    iface=$(ap_field "$tag" 2); ch=$(ap_field "$tag" 3); mode=$(ap_field "$tag" 4)
    sec=$(ap_field "$tag" 5); ssid=$(ap_field "$tag" 6)
    f="$W/hostapd-$tag.conf"
    {
        echo "interface=$iface"
        echo "driver=nl80211"
        echo "ctrl_interface=/run/hostapd"
        echo "ssid2=$(hexstr "$ssid")"
        echo "hw_mode=$mode"
        echo "channel=$ch"
        echo "country_code=$COUNTRY"
        echo "ieee80211d=1"
        echo "ieee80211n=1"
        echo "wmm_enabled=1"
        echo "beacon_int=100"
        [ "$tag" = hidden ] && echo "ignore_broadcast_ssid=1"
        case $sec in
            open) ;;
            wpa2) echo "wpa=2"; echo "wpa_key_mgmt=WPA-PSK"; echo "rsn_pairwise=CCMP"
                  echo "wpa_passphrase=$PSK" ;;
            sae) echo "wpa=2"; echo "wpa_key_mgmt=SAE"; echo "rsn_pairwise=CCMP"
                 echo "ieee80211w=2"; echo "sae_password=$PSK"; echo "sae_pwe=2" ;;
            transition) echo "wpa=2"; echo "wpa_key_mgmt=WPA-PSK SAE"; echo "rsn_pairwise=CCMP"
                 echo "ieee80211w=1"; echo "wpa_passphrase=$PSK"; echo "sae_password=$PSK" ;;
        esac
    } > "$f"
}

c_ap() {
    tag=$1
    write_hostapd_conf "$tag"
    log="$W/hostapd-$tag.log"
    hostapd -B -t -P "$W/hostapd-$tag.pid" -f "$log" "$W/hostapd-$tag.conf" || {
        tail -n 5 "$log"; echo "hostapd did not start"; return 1; }
    wait_for 20 grep -q AP-ENABLED "$log" || { tail -n 8 "$log"; echo "no AP-ENABLED in 20 s"; return 1; }
    if grep -q 'key addition failed' "$log"; then echo "hostapd: key addition failed (crypto modules?)"; return 1; fi
    echo "$(ap_field "$tag" 6) on channel $(ap_field "$tag" 3)"
}

start_client() {
    iface=$1; ssid=$2; extra=$3; ip=$4
    f="$W/wpa-$iface.conf"
    {
        echo "ctrl_interface=/run/wpa_supplicant"
        echo "country=$COUNTRY"
        echo "network={"
        echo "  ssid=\"$ssid\""
        echo "  psk=\"$PSK\""
        echo "  key_mgmt=WPA-PSK"
        [ -n "$extra" ] && echo "  $extra"
        echo "}"
    } > "$f"
    wpa_supplicant -B -D nl80211 -i "$iface" -c "$f" -f "$W/wpa-$iface.log" -P "$W/wpa-$iface.pid" || return 1
    wait_for 30 sh -c "wpa_cli -p /run/wpa_supplicant -i $iface status | grep -q wpa_state=COMPLETED" || {
        tail -n 8 "$W/wpa-$iface.log"; echo "$iface: not associated to $ssid in 30 s"; return 1; }
    ip addr add "$ip/24" dev "$iface"
    ip link set "$iface" up
    # Keep frames flowing from the client (a real phone is never silent for long): ARP
    # requests go over the air to the AP, whose interface holds .1 and answers.
    # About ten requests a second: the hopper visits a channel for only 200 ms per cycle.
    for _k in 1 2; do
        (while :; do arping -q -c 1 -w 1 -I "$iface" "${ip%.*}.1" >/dev/null 2>&1; usleep 200000; done) &
    done
    bssid=$(wpa_cli -p /run/wpa_supplicant -i "$iface" status | sed -n 's/^bssid=//p')
    echo "$iface associated to $ssid ($bssid)"
}

c_client() {
    ip addr add 192.168.77.1/24 dev wlan1 2>/dev/null
    start_client wlan6 vdev-wpa2 "" 192.168.77.2 || return 1
    [ "$(wpa_cli -p /run/wpa_supplicant -i wlan6 status | sed -n 's/^bssid=//p')" = "$(mac_of wlan1)" ] \
        || { echo "wlan6 associated to the wrong BSSID"; return 1; }
}

c_hidden_client() {
    ip addr add 192.168.78.1/24 dev wlan4 2>/dev/null
    start_client wlan7 vdev-hidden "scan_ssid=1" 192.168.78.2
}

# The monitor smoke test, without piwardrive: a monitor vif on radio 9 hears each AP's
# beacons on its channel. The frames are kept in $W/monitor.pcap for ingest-monitor-capture.
c_monitor_smoke() {
    phy=$(phy_of wlan9)
    iw phy "$phy" interface add mon0 type monitor || { echo "cannot add a monitor vif on $phy"; return 1; }
    ip link set wlan9 down
    ip link set mon0 up || { echo "mon0 does not come up"; return 1; }
    echo "$AP_TABLE" | while IFS='|' read -r tag iface ch mode sec ssid enc; do
        iw dev mon0 set channel "$ch" || { echo "MISS $tag: cannot tune to $ch"; continue; }
        bssid=$(mac_of "$iface")
        timeout 5 tcpdump -Z root -U -n -i mon0 -c 5 -w "$W/mon-$tag.pcap" 'type mgt subtype beacon' 2> "$W/mon-$tag.err"
        tcpdump -Z root -n -e -r "$W/mon-$tag.pcap" > "$W/mon-$tag.txt" 2>> "$W/mon-$tag.err"
        if grep -qi "BSSID:$bssid" "$W/mon-$tag.txt"; then
            echo "seen $tag ($bssid) on $ch"
        else
            echo "MISS $tag: no beacon from $bssid on channel $ch ($(tail -n 1 "$W/mon-$tag.err"); $(head -n 1 "$W/mon-$tag.txt"))"
        fi
    done > "$W/mon-summary.txt"
    cat "$W/mon-summary.txt"
    ip link set mon0 down; iw dev mon0 del
    if grep -q '^MISS' "$W/mon-summary.txt"; then grep '^MISS' "$W/mon-summary.txt" | tr '\n' ';'; echo; return 1; fi
    echo "beacons of all $(echo "$AP_TABLE" | wc -l) APs"
}

# The associated client is on the air: data frames from wlan6 on channel 6 (what the
# appliance needs to pair the client with its AP).
c_client_frames() {
    [ -e "$W/wpa-wlan6.pid" ] || { echo "SKIP: needs client-associated"; return 77; }
    iw phy "$(phy_of wlan9)" interface add mon1 type monitor || { echo "cannot add mon1"; return 1; }
    ip link set mon1 up; iw dev mon1 set channel 6
    timeout 5 tcpdump -Z root -n -e -i mon1 -c 20 "type data and wlan addr2 $(mac_of wlan6)" > "$W/client-frames.txt" 2>&1
    ip link set mon1 down; iw dev mon1 del
    n=$(grep -c 'SA:\|TA:\|BSSID' "$W/client-frames.txt")
    head -n 3 "$W/client-frames.txt"
    [ "$n" -ge 3 ] || { echo "only $n data frames from the client in 5 s"; return 1; }
    echo "$n data frames from the client in under 5 s"
}

c_piwardrive_executes() {
    piwardrive --version || { echo "piwardrive does not run in the guest"; return 1; }
    piwardrive networks --help > /dev/null || { echo "piwardrive networks --help fails"; return 1; }
}

# The "adapter" can be unplugged and plugged back: hwsim-ctl destroys and re-creates a radio.
c_unplug_replug() {
    ifc=$(capture_radio_up) && [ -n "$ifc" ] || { echo "hwsim-ctl new vdevcap: no interface"; return 1; }
    echo "vdevcap up as $ifc"
    hwsim-ctl del vdevcap || { echo "hwsim-ctl del failed"; return 1; }
    wait_for 5 sh -c '[ ! -e /sys/class/ieee80211/vdevcap ]' || { echo "vdevcap still there after del"; return 1; }
    [ ! -e "/sys/class/net/$ifc" ] || { echo "$ifc still there after del"; return 1; }
    ifc2=$(capture_radio_up) && [ -n "$ifc2" ] || { echo "vdevcap not re-created"; return 1; }
    [ "$ifc2" = "$ifc" ] || echo "note: came back as $ifc2"
    iw dev "$ifc2" info | grep -q 'type managed' || { echo "$ifc2 is not a managed interface"; return 1; }
    echo "vdevcap ($ifc) destroyed and re-created"
}

# The decoder on frames from real drivers: what the monitor smoke test captured, ingested.
c_ingest_monitor_capture() {
    ls "$W"/mon-*.pcap > /dev/null 2>&1 || { echo "SKIP: needs monitor-beacons"; return 77; }
    piwardrive ingest --data-dir "$W/ingest.data" "$W"/mon-*.pcap || { echo "ingest failed"; return 1; }
    piwardrive networks --data-dir "$W/ingest.data" --format tsv > "$W/ingest.tsv" || { echo "networks failed"; return 1; }
    cat "$W/ingest.tsv"
    check_aps "$W/ingest.tsv" $ALL_TAGS > "$W/ingest.check" || { tr '\n' ';' < "$W/ingest.check"; echo; return 1; }
    echo "all 6 APs decoded from the monitor capture"
}

# ------------------------------------------------------------------ appliance checks

have_run() {
    piwardrive run --help >/dev/null 2>&1
}

# The TOML the appliance reads (docs/configuration.md). Arguments: data dir, then
# key=value lines appended to the [capture] table as given.
# Created radio "vdevcap" for the capture: it can be destroyed and re-created (unplug/replug).
capture_radio_up() {
    if [ -z "$(capture_iface)" ]; then
        hwsim-ctl new vdevcap >/dev/null || return 1
        wait_for 5 sh -c '[ -n "$(ls /sys/class/ieee80211/vdevcap/device/net 2>/dev/null)" ]' || return 1
    fi
    park_radio vdevcap >&2 || return 1
    capture_iface
}

# A mac80211_hwsim quirk of kernel 6.1 (seen with iw + tcpdump alone, no piwardrive): a radio
# whose monitor interface is tuned keeps receiving on the channel it was on when the
# interface came up, besides the tuned one (hwsim's own channel is set only when an interface
# comes up; tuning a monitor moves its channel context, which hwsim's receive path honours
# as well). A fresh radio starts on channel 1, where vdev-open beacons, so a capture locked
# to 44 would hear vdev-open too. A real adapter has one receiver. Before each run the
# capture radio is therefore parked on PARK_CHANNEL, where no AP is: a monitor vif brought
# up, tuned there, taken down and deleted leaves the radio on it for the next interface.
# Check capture-radio-parked shows that a tuned monitor then hears only its channel.
PARK_CHANNEL=165
park_radio() {
    iw phy "$1" interface add vdevpark type monitor || { echo "park: cannot add a monitor vif on $1"; return 1; }
    ip link set vdevpark up && iw dev vdevpark set channel "$PARK_CHANNEL"
    _rc=$?
    ip link set vdevpark down; iw dev vdevpark del
    [ "$_rc" = 0 ] || echo "park: cannot tune $1 to channel $PARK_CHANNEL"
    return $_rc
}

# beacon_freqs IFACE SECONDS: "MHz BSSID" of every beacon heard, one line each, sorted, unique.
beacon_freqs() {
    timeout "$2" tcpdump -Z root -n -e -i "$1" 'type mgt subtype beacon' 2>/dev/null \
        | sed -n 's/.* \([0-9]*\) MHz .*BSSID:\([0-9a-f:]*\).*/\1 \2/p' | sort -u
}

# The capture radio, parked, then tuned to 44 by hand: only channel 44's AP is heard.
c_capture_radio_parked() {
    ifc=$(capture_radio_up) && [ -n "$ifc" ] || { echo "capture radio vdevcap not created"; return 1; }
    iw phy vdevcap interface add vdevprobe type monitor || { echo "cannot add a monitor vif"; return 1; }
    ip link set vdevprobe up; iw dev vdevprobe set channel 44
    beacon_freqs vdevprobe 3 > "$W/parked.txt"
    ip link set vdevprobe down; iw dev vdevprobe del
    cat "$W/parked.txt"
    want="5220 $(mac_of "$(ap_field transition 2)")"
    [ "$(cat "$W/parked.txt")" = "$want" ] \
        || { echo "tuned to 44 after parking, heard: $(tr '\n' ';' < "$W/parked.txt") (want only $want)"; return 1; }
    echo "a monitor tuned to 44 hears only $want"
}
capture_iface() {
    for n in /sys/class/net/*; do
        [ "$(cat "$n/phy80211/name" 2>/dev/null)" = vdevcap ] && { basename "$n"; return 0; }
    done
    return 0
}

# start_run NAME CONFIG_BODY [ARGS...]: starts `piwardrive run --config FILE ARGS...` in the
# background; the pid in $W/run-NAME.pid.
start_run() {
    rname=$1
    printf '%s\n' "$2" > "$W/$rname.toml"
    shift 2
    rm -rf "$W/$rname.data"
    # The UI and API need a login: an API token for api/wait_api, made before `run` holds
    # the store (the configs use $W/NAME.data as data_dir).
    API_TOKEN=$(piwardrive token create --data-dir "$W/$rname.data" --name suite 2>/dev/null)
    NO_COLOR=1 RUST_LOG=${RUST_LOG:-info} piwardrive run --config "$W/$rname.toml" "$@" > "$W/$rname.log" 2>&1 &
    echo $! > "$W/run-$rname.pid"
}
running() { kill -0 "$(cat "$W/run-$1.pid")" 2>/dev/null; }
stop_run() {
    pid=$(cat "$W/run-$1.pid")
    kill -INT "$pid" 2>/dev/null
    wait_for 20 sh -c "! kill -0 $pid" || { kill -KILL "$pid" 2>/dev/null; echo "run did not stop on SIGINT in 20 s"; }
}
networks_tsv() {
    piwardrive networks --data-dir "$W/$1.data" --format tsv
}

# check_aps TSV TAGS...: every tagged AP present with the right SSID (hex), channel and class.
check_aps() {
    tsv=$1; shift
    bad=0
    for tag in "$@"; do
        bssid=$(mac_of "$(ap_field "$tag" 2)"); ch=$(ap_field "$tag" 3); enc=$(ap_field "$tag" 7)
        want_hex=$(hexstr "$(ap_field "$tag" 6)")
        row=$(awk -F'\t' -v b="$bssid" 'tolower($1) == tolower(b)' "$tsv")
        if [ -z "$row" ]; then echo "MISS $tag ($bssid) not found"; bad=1; continue; fi
        got_hex=$(echo "$row" | cut -f2); got_hidden=$(echo "$row" | cut -f3)
        got_ch=$(echo "$row" | cut -f4); got_enc=$(echo "$row" | cut -f6)
        if [ "$tag" = hidden ]; then
            [ "$got_hidden" = 1 ] || { echo "BAD $tag: hidden=$got_hidden, want 1"; bad=1; }
            # The SSID is revealed only by a probe response or an association: checked apart.
            [ -z "$got_hex" ] || [ "$got_hex" = "$want_hex" ] || { echo "BAD $tag: ssid_hex $got_hex"; bad=1; }
        else
            [ "$got_hex" = "$want_hex" ] || { echo "BAD $tag: ssid_hex $got_hex, want $want_hex"; bad=1; }
        fi
        [ "$got_ch" = "$ch" ] || { echo "BAD $tag: channel $got_ch, want $ch"; bad=1; }
        [ "$got_enc" = "$enc" ] || { echo "BAD $tag: enc_class $got_enc, want $enc"; bad=1; }
    done
    return $bad
}
ALL_TAGS="open wpa2 sae transition hidden markup"

# api PATH: the body of GET PATH from the running appliance (busybox-static's wget crashes in
# static glibc's resolver; a raw request over nc, headers stripped). busybox nc shuts its
# sending side once the request is sent: the appliance must answer such half-closed
# connections (it does since web::serve allows HTTP/1 half-close; before, hyper dropped them
# unanswered whenever the handler waited on the store, which is what made the API look
# stalled for 20-30 s in this suite once requests needed a token lookup).
api() {
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n' "$1" "$API_TOKEN" | timeout 5 nc 127.0.0.1 8080 2>/dev/null \
        | sed '1,/^\r*$/d'
}
# source_state: the first source's state in /api/v1/sources (its first "state" key; the
# hopper's comes later in the object).
source_state() {
    api /api/v1/sources | grep -o '"state":"[a-z]*"' | head -n 1 | cut -d'"' -f4
}
source_is_capturing() { [ "$(source_state)" = capturing ]; }
source_is_down() { _st=$(source_state); [ "$_st" = failed ] || [ "$_st" = starting ]; }
lock_shown() {
    api /api/v1/sources > "$W/lock-sources.json"
    grep -q '"hop":{"state":"locked","channel":"44 (5 GHz, 5220 MHz)"' "$W/lock-sources.json"
}
scan_shown() {
    api /api/v1/sources > "$W/scan-sources.json"
    grep -q '"mode":"scan","sees_clients":false' "$W/scan-sources.json"
}

# wait_api SECONDS TAGS...: polls the running appliance's /api/v1/networks until every tagged
# AP's BSSID is listed; prints the seconds it took. The store is not readable by a second
# process while `run` holds it, the API is.
wait_api() {
    _limit=$1; shift
    _t0=$(now)
    while :; do
        # busybox-static's wget crashes in static glibc's resolver; a raw request over nc.
        printf 'GET /api/v1/networks HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n' "$API_TOKEN" \
            | timeout 5 nc 127.0.0.1 8080 > "$W/api.json" 2> "$W/api.err"
        _miss=""
        for _tag in "$@"; do
            grep -qi "\"$(mac_of "$(ap_field "$_tag" 2)")\"" "$W/api.json" 2>/dev/null || _miss="$_miss $_tag"
        done
        _dt=$(awk -v a="$_t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
        [ -z "$_miss" ] && { echo "$_dt"; return 0; }
        awk -v d="$_dt" -v l="$_limit" 'BEGIN { exit !(d >= l) }' && {
            echo "missing:$_miss; API said: $(head -n 1 "$W/api.json" 2>/dev/null | tr -d '\r') $(tail -n 1 "$W/api.err")"; return 1; }
        sleep 1
    done
}

# The TOML `piwardrive run --config` reads (firmware/src/config.rs, docs/configuration.md):
# run_config DATA_DIR IFACE MODE [LOCK_CHANNEL [FILTER [CHANNELS]]]
run_config() {
    echo "data_dir = \"$1\""
    echo "commit_interval_ms = 500"
    echo "[web]"
    echo "listen = \"127.0.0.1:8080\""
    echo "[gps]"
    echo "enabled = false"
    echo "set_clock = false"
    echo "[[sources]]"
    echo "interface = \"$2\""
    echo "mode = \"$3\""
    echo "filter = \"${5:-survey}\""
    [ "$3" = scan ] && echo "scan_interval_ms = 3000"
    echo "[sources.hop]"
    echo "dwell_ms = 200"
    [ -n "${4:-}" ] && echo "lock = $4"
    [ -n "${6:-}" ] && echo "channels = [$6]"
    return 0
}

c_hop_finds_aps() {
    have_run || { echo "SKIP: piwardrive run not available yet"; return 77; }
    ifc=$(capture_radio_up) && [ -n "$ifc" ] || { echo "capture radio vdevcap not created"; return 1; }
    # Hop over the test APs' channels only: with every channel hwsim allows (58 at 200 ms) a
    # cycle lasts 11.6 s and the client's data frames on channel 6 are heard for a fraction of
    # a second per cycle; the hopping itself (stride order over 2.4 and 5 GHz) is the same.
    start_run hop "$(run_config "$W/hop.data" "$ifc" monitor "" survey "1, 6, 11, 36, 44, 149")"
    took=$(wait_api "$CAPTURE_SECS" $ALL_TAGS); found=$?
    # Then stay long enough for run-hop-client-with-ap: channel 6 gets a sixth of the time and
    # the client sends about two data frames a second, so 20 s hear a dozen of them.
    [ "$found" = 0 ] && sleep 20
    echo "client senders running: $(ps | grep -c '[a]rping')"
    running hop || { tail -n 5 "$W/hop.log"; echo "piwardrive run exited early"; return 1; }
    stop_run hop
    networks_tsv hop > "$W/hop.tsv" || { echo "networks failed after the run"; return 1; }
    cat "$W/hop.tsv"
    check_aps "$W/hop.tsv" $ALL_TAGS > "$W/hop.check" || { tail -n 10 "$W/hop.log"; tr '\n' ';' < "$W/hop.check"; echo; return 1; }
    [ $found = 0 ] || { tail -n 10 "$W/hop.log"; echo "not all APs in the API within $CAPTURE_SECS s of the start ($took)"; return 1; }
    echo "all 6 APs (SSID, channel, security) within $took s of the start"
}

c_hop_client() {
    [ -e "$W/hop.tsv" ] || { echo "SKIP: needs run-hop-finds-aps"; return 77; }
    piwardrive clients --data-dir "$W/hop.data" --format tsv > "$W/hop-clients.tsv" || { echo "clients failed"; return 1; }
    cat "$W/hop-clients.tsv"
    sta=$(mac_of wlan6); ap=$(mac_of wlan1)
    row=$(awk -F'\t' -v m="$sta" 'tolower($1) == tolower(m)' "$W/hop-clients.tsv")
    [ -n "$row" ] || { echo "client $sta (wlan6) not in the store"; return 1; }
    got=$(echo "$row" | cut -f2)
    [ "$got" = "$ap" ] || { echo "client $sta associated with '$got', want vdev-wpa2 $ap"; return 1; }
    n=$(awk -F'\t' -v b="$ap" 'tolower($1) == tolower(b)' "$W/hop.tsv" | cut -f16)
    [ "${n:-0}" -ge 1 ] 2>/dev/null || { echo "vdev-wpa2 has clients=${n:-none}"; return 1; }
    echo "client $sta with vdev-wpa2 ($ap), which counts $n client(s)"
}

# A hidden SSID shows only in what a client sends or is answered (probe request/response,
# association request). Locked to the hidden AP's channel 11 with the default wardrive filter
# (management frames + EAPOL), while the hidden AP's client reconnects every few seconds.
c_hidden_revealed() {
    have_run || { echo "SKIP: piwardrive run not available yet"; return 77; }
    [ -e "$W/wpa-wlan7.pid" ] || { echo "SKIP: needs hidden-client-associated"; return 77; }
    ifc=$(capture_radio_up) && [ -n "$ifc" ] || { echo "capture radio vdevcap not created"; return 1; }
    start_run reveal "$(run_config "$W/reveal.data" "$ifc" monitor 11 wardrive)"
    wait_for 30 grep -q 'in monitor mode as' "$W/reveal.log" || { tail -n 5 "$W/reveal.log"; echo "capture did not start"; return 1; }
    n=0
    while [ $n -lt 4 ]; do
        n=$((n + 1))
        wpa_cli -p /run/wpa_supplicant -i wlan7 disconnect >/dev/null
        sleep 1
        wpa_cli -p /run/wpa_supplicant -i wlan7 reconnect >/dev/null
        sleep 3
    done
    running reveal || { tail -n 5 "$W/reveal.log"; echo "piwardrive run exited early"; return 1; }
    stop_run reveal
    networks_tsv reveal > "$W/reveal.tsv" || { echo "networks failed"; return 1; }
    cat "$W/reveal.tsv"
    row=$(awk -F'\t' -v b="$(mac_of wlan4)" 'tolower($1) == tolower(b)' "$W/reveal.tsv")
    [ -n "$row" ] || { echo "hidden AP not found on its channel"; return 1; }
    [ "$(echo "$row" | cut -f3)" = 1 ] || { echo "hidden AP not flagged hidden"; return 1; }
    [ "$(echo "$row" | cut -f2)" = "$(hexstr vdev-hidden)" ] \
        || { echo "hidden SSID not revealed by the client's reconnections (ssid_hex '$(echo "$row" | cut -f2)')"; return 1; }
    echo "vdev-hidden revealed"
}

c_lock_channel() {
    have_run || { echo "SKIP: piwardrive run not available yet"; return 77; }
    ifc=$(capture_radio_up) && [ -n "$ifc" ] || { echo "capture radio vdevcap not created"; return 1; }
    # Locked from the command line (the configuration alone would hop every channel).
    start_run lock "$(run_config "$W/lock.data" "$ifc" monitor "")" --lock 44
    sleep 15
    running lock || { tail -n 5 "$W/lock.log"; echo "piwardrive run exited early"; return 1; }
    wait_for 20 lock_shown \
        || { cat "$W/lock-sources.json"; echo; echo "/api/v1/sources does not show the lock on 44"; return 1; }
    stop_run lock
    networks_tsv lock > "$W/lock.tsv" || { echo "networks failed"; return 1; }
    cat "$W/lock.tsv"
    check_aps "$W/lock.tsv" transition || { echo "the AP on channel 44 not found"; return 1; }
    n=$(($(wc -l < "$W/lock.tsv") - 1))
    [ "$n" = 1 ] || { echo "$n networks with channel 44 locked, want 1"; return 1; }
    echo "only channel 44's AP"
}

c_scan_fallback() {
    have_run || { echo "SKIP: piwardrive run not available yet"; return 77; }
    start_run scan "$(run_config "$W/scan.data" wlan8 scan "")"
    # A full scan of every 2.4/5/6 GHz channel takes about 13 s under emulation, and a hidden
    # AP is only heard by a passive dwell catching its beacon: allow a few scans.
    took=$(wait_api "$SCAN_SECS" $ALL_TAGS)
    running scan || { tail -n 5 "$W/scan.log"; echo "piwardrive run exited early"; return 1; }
    # The UI says that a scan source sees no clients.
    wait_for 20 scan_shown \
        || { cat "$W/scan-sources.json"; echo; echo "/api/v1/sources does not say the scan source sees no clients"; return 1; }
    # (That the Capture page says so in words is a router test: capture_page_shows_each_source_escaped.)
    stop_run scan
    networks_tsv scan > "$W/scan.tsv" || { echo "networks failed"; return 1; }
    cat "$W/scan.tsv"
    check_aps "$W/scan.tsv" open wpa2 sae transition markup hidden > "$W/scan.check" \
        || { tail -n 15 "$W/scan.log"; tr '\n' ';' < "$W/scan.check"; echo; return 1; }
    rescanned=$(awk -F'\t' 'NR > 1 && $12 - $11 > 2000000' "$W/scan.tsv" | wc -l)
    echo "all APs from managed scans within $took s ($rescanned seen again more than 2 s after their first sighting)"
}

# Unplug the capture adapter while running (destroy the hwsim radio), plug it back: the
# process stays up, logs the outage, and captures again by itself (docs/configuration.md:
# retries from 1 s doubling to 30 s, so back within about 30 s).
c_radio_outage() {
    have_run || { echo "SKIP: piwardrive run not available yet"; return 77; }
    ifc=$(capture_radio_up) && [ -n "$ifc" ] || { echo "capture radio vdevcap not created"; return 1; }
    start_run outage "$(run_config "$W/outage.data" "$ifc" monitor "")"
    wait_for 30 grep -q 'in monitor mode as' "$W/outage.log" \
        || { tail -n 5 "$W/outage.log"; echo "capture did not start in 30 s"; return 1; }
    sleep 3
    i=0
    while [ $i -lt "$OUTAGE_CYCLES" ]; do
        i=$((i + 1))
        mark=$(wc -l < "$W/outage.log")
        hwsim-ctl del vdevcap || { echo "cannot destroy the capture radio"; return 1; }
        wait_for 20 sh -c "tail -n +$((mark + 1)) $W/outage.log | grep -qiE 'warn|error'" \
            || { tail -n 5 "$W/outage.log"; echo "cycle $i: no outage reported in the log within 20 s"; return 1; }
        running outage || { tail -n 5 "$W/outage.log"; echo "cycle $i: piwardrive run died when its radio went away"; return 1; }
        tail -n +"$((mark + 1))" "$W/outage.log" | grep -iE 'warn|error' | head -n 3
        sleep 5
        running outage || { echo "cycle $i: piwardrive run died during the outage"; return 1; }
        wait_for 15 source_is_down \
            || { echo "cycle $i: /api/v1/sources says '$(source_state)' while the radio is gone"; return 1; }
        echo "cycle $i: the API shows the source $(source_state) during the outage"
        mark=$(wc -l < "$W/outage.log")
        hwsim-ctl new vdevcap >/dev/null || { echo "cannot re-create the capture radio"; return 1; }
        t_back=$(date +%s)
        wait_for 45 sh -c "tail -n +$((mark + 1)) $W/outage.log | grep -q 'in monitor mode as'" \
            || { tail -n 5 "$W/outage.log"; echo "cycle $i: capture did not resume within 45 s of the radio coming back"; return 1; }
        echo "cycle $i: resumed after $(( $(date +%s) - t_back )) s"
        wait_for 10 source_is_capturing \
            || { echo "cycle $i: /api/v1/sources says '$(source_state)' after the radio came back"; return 1; }
        sleep 5
    done
    running outage || { echo "piwardrive run died after the radio came back"; return 1; }
    stop_run outage
    networks_tsv outage > "$W/outage.tsv" || { echo "networks failed"; return 1; }
    # Capture really resumed: some AP was heard after the radio came back.
    last=$(awk -F'\t' 'NR > 1 && $12 > m { m = $12 } END { printf "%d", m / 1000000 }' "$W/outage.tsv")
    [ "${last:-0}" -ge "$t_back" ] || { echo "nothing heard after the radio came back (last seen $last, back at $t_back)"; return 1; }
    echo "$OUTAGE_CYCLES outage(s) reported, capture resumed each time"
}

# ------------------------------------------------------------------ the run
T0=$(now)
check hwsim-radios c_hwsim_radios
check regulatory-db c_regulatory
echo "$AP_TABLE" | cut -d'|' -f1 > "$W/tags"
for tag in $(cat "$W/tags"); do
    check "ap-$tag" c_ap "$tag"
done
check client-associated c_client
check hidden-client-associated c_hidden_client
check monitor-beacons c_monitor_smoke
check client-frames-on-air c_client_frames
check piwardrive-executes c_piwardrive_executes
check ingest-monitor-capture c_ingest_monitor_capture
check radio-unplug-replug c_unplug_replug
check capture-radio-parked c_capture_radio_parked
check run-hop-finds-aps c_hop_finds_aps
check run-hop-client-with-ap c_hop_client
check run-lock-channel c_lock_channel
check run-hidden-ssid-revealed c_hidden_revealed
check run-scan-fallback c_scan_fallback
check run-radio-outage c_radio_outage
echo "VDEV-SUMMARY $PASSED passed, $FAILED failed, $SKIPPED skipped in $(awk -v a="$T0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s"
[ "$FAILED" = 0 ]
