package notify

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Owner forms each platform can mention; any other owner is named in the
// text without a mention.
var (
	phone       = regexp.MustCompile(`^\+?[0-9][0-9-]{5,19}$`)
	larkOpenID  = regexp.MustCompile(`^ou_[A-Za-z0-9]+$`)
	slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{6,}$`)
)

const timeLayout = "2006-01-02 15:04 MST"

func when(t time.Time) string { return t.UTC().Format(timeLayout) }

// lines renders a notice as plain lines, the same on every channel.
func (n *Notifier) lines(notice Notice, mention string) (title string, body []string) {
	who := "the owner-less instances"
	if notice.Owner != "" {
		who = mention
	}
	noun := "instance(s)"
	for _, it := range notice.Items {
		if it.Kind != "" {
			noun = "instance(s), disk(s), snapshot(s) or EIP(s)"
		}
	}
	title = fmt.Sprintf("ecs-reaper: %d %s due, %s", len(notice.Items), noun, who)
	body = append(body, title)
	if notice.Again {
		body = append(body, "(Repeated: the last notice was delivered but could not be recorded on the instances.)")
	}
	for _, it := range notice.Items {
		name := ""
		if it.Name != "" {
			name = " (" + it.Name + ")"
		}
		where := it.Region
		if it.Account != "" {
			where = it.Account + "/" + it.Region
		}
		what := map[string]string{"disks": "disk ", "snapshots": "snapshot ", "eips": "EIP "}[it.Kind]
		body = append(body, fmt.Sprintf("- %s%s%s in %s: expires %s; will be %s no earlier than %s",
			what, it.InstanceID, name, where, when(it.ExpiresAt), verb(it.Action), when(it.When)))
	}
	body = append(body, fmt.Sprintf("To keep an instance: add the tag %s (any value), or set %s to a later expiry.", n.cfg.KeepTag, n.cfg.OptInTag))
	body = append(body, "Nothing is released before this notice is recorded on the instance; if it cannot be, you are told again on the next run.")
	return title, body
}

func verb(action string) string {
	switch action {
	case "stop":
		return "stopped (and released once it has stayed stopped for the grace period)"
	case "release":
		return "released"
	}
	return action
}

// renderNotice builds the channel's message for a notice.
func (n *Notifier) renderNotice(notice Notice) message {
	owner := notice.Owner
	switch n.cfg.Kind {
	case DingTalk:
		at := map[string]any{}
		mention := owner
		if phone.MatchString(owner) {
			at["atMobiles"] = []string{owner}
			mention = "@" + owner
		}
		title, lines := n.lines(notice, mention)
		return jsonMessage(map[string]any{"msgtype": "markdown", "markdown": map[string]any{"title": title, "text": strings.Join(lines, "\n\n")}, "at": at})
	case Lark:
		mention := owner
		if larkOpenID.MatchString(owner) {
			mention = `<at user_id="` + owner + `">` + owner + `</at>`
		}
		_, lines := n.lines(notice, mention)
		return jsonMessage(map[string]any{"msg_type": "text", "content": map[string]any{"text": strings.Join(lines, "\n")}})
	case Slack:
		mention := owner
		if slackUserID.MatchString(owner) {
			mention = "<@" + owner + ">"
		}
		_, lines := n.lines(notice, mention)
		return jsonMessage(map[string]any{"text": strings.Join(lines, "\n")})
	}
	_, lines := n.lines(notice, owner)
	return jsonMessage(map[string]any{"kind": "notice", "owner": owner, "again": notice.Again, "items": notice.Items, "text": strings.Join(lines, "\n")})
}

// renderSummary builds the channel's message for a run's summary.
func (n *Notifier) renderSummary(s Summary) message {
	dry := ""
	if s.DryRun {
		dry = " (dry run)"
	}
	text := fmt.Sprintf("ecs-reaper run %s%s: %d released, %d stopped, %d notified, %d failed", s.RunID, dry, s.Released, s.Stopped, s.Notified, s.Failed)
	if s.CapTripped {
		text += "; a release cap was exceeded: nothing was released"
	}
	if s.Error != "" {
		text += ". Error: " + s.Error
	}
	switch n.cfg.Kind {
	case DingTalk:
		return jsonMessage(map[string]any{"msgtype": "text", "text": map[string]any{"content": text}})
	case Lark:
		return jsonMessage(map[string]any{"msg_type": "text", "content": map[string]any{"text": text}})
	case Slack:
		return jsonMessage(map[string]any{"text": text})
	}
	return jsonMessage(map[string]any{"kind": "summary", "summary": s, "text": text})
}

func jsonMessage(content map[string]any) message {
	b, _ := json.Marshal(content) // maps of strings, slices and times always marshal
	return message{body: b, content: content}
}
