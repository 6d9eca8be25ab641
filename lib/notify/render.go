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

// lines renders a notice as plain lines, the same on every channel. Every
// value that is not the tool's own text (names, owners, IDs, regions, tag
// keys) is escaped in the channel's syntax; mention is already rendered.
func (n *Notifier) lines(notice Notice, mention string) (title string, body []string) {
	esc := n.escape
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
	if notice.Again {
		title = fmt.Sprintf("ecs-reaper: %d %s due, %s (repeated notice)", len(notice.Items), noun, who)
	}
	body = append(body, title)
	if notice.Again {
		body = append(body, "Repeated notice: you were told before about the items marked (told before), but that notice no longer counts (the expiry changed, or its mark was altered or unreadable); this notice replaces it.")
	}
	for _, it := range notice.Items {
		name := ""
		if it.Name != "" {
			name = " (" + esc(it.Name) + ")"
		}
		where := esc(it.Region)
		if it.Account != "" {
			where = esc(it.Account) + "/" + esc(it.Region)
		}
		again := ""
		if it.Again {
			again = " (told before)"
		}
		what := map[string]string{"disks": "disk ", "snapshots": "snapshot ", "eips": "EIP "}[it.Kind]
		body = append(body, fmt.Sprintf("- %s%s%s in %s%s: expires %s; %s",
			what, esc(it.InstanceID), name, where, again, when(it.ExpiresAt), promise(it)))
	}
	body = append(body, fmt.Sprintf("To keep an instance: add the tag %s (any value), or set %s to a later expiry.", esc(n.cfg.KeepTag), esc(n.cfg.OptInTag)))
	body = append(body, "Nothing is released before this notice is recorded on the instance; if it cannot be, you are told again on the next run.")
	return title, body
}

// promise says what will happen to an item, and only that.
func promise(it Item) string {
	switch it.Action {
	case ActionStop:
		return "will be stopped (and released once it has stayed stopped for the grace period) no earlier than " + when(it.When)
	case ActionReleaseOnceStopped:
		return "it runs, and running instances are not released (REAPER_RUNNING=skip): nothing happens while it runs. " +
			"Once it is stopped, it is released, no earlier than " + when(it.When)
	case ActionRelease:
		return "will be released no earlier than " + when(it.When)
	}
	return "will be " + it.Action + " no earlier than " + when(it.When)
}

// Escapers of tag-derived text, per channel. A tag value is free text
// anyone who may tag a resource wrote; in the chat it must stay text: no
// mention, link, image or markup of its own.
var (
	// Slack mrkdwn: &, < and > are its control characters (<!channel>,
	// <@U..>, <url|text>); Slack decodes these three entities.
	slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	// Lark/Feishu text messages read <at ...> tags, [text](url) links and
	// a few style marks; entities are not documented as decoded, so the
	// characters are replaced by their full-width forms.
	larkEscaper = strings.NewReplacer("<", "＜", ">", "＞", "[", "［", "]", "］", "(", "（", ")", "）", "*", "＊", "~", "～", "//", "／／")
	// DingTalk markdown: links, images, emphasis, headings, quotes, code,
	// tables, HTML, at-mentions; whether it honours backslash escapes is
	// undocumented, so the marks are replaced by their full-width forms.
	dingTalkEscaper = strings.NewReplacer("\\", "＼", "`", "｀", "*", "＊", "_", "＿", "[", "［", "]", "］", "(", "（", ")", "）",
		"#", "＃", "!", "！", "<", "＜", ">", "＞", "|", "｜", "~", "～", "@", "＠", "//", "／／")
	// DingTalk text messages (the run summary) render no markup; only an
	// at-mention is live.
	dingTalkTextEscaper = strings.NewReplacer("@", "＠")
)

// escape is the channel's escaper; the json channel's values stay raw (JSON
// encoding escapes them, and the reader decides how to show them).
func (n *Notifier) escape(v string) string {
	switch n.cfg.Kind {
	case Slack:
		return slackEscaper.Replace(plain(v))
	case Lark:
		return larkEscaper.Replace(plain(v))
	case DingTalk:
		return dingTalkEscaper.Replace(plain(v))
	}
	return v
}

// renderNotice builds the channel's message for a notice. A mention is
// built only from an owner that is exactly one user's ID in the platform's
// form (a phone number, an open_id, a user ID): never from other text.
func (n *Notifier) renderNotice(notice Notice) message {
	owner := notice.Owner
	mention := n.escape(owner)
	switch n.cfg.Kind {
	case DingTalk:
		at := map[string]any{}
		if phone.MatchString(owner) {
			at["atMobiles"] = []string{owner}
			mention = "@" + owner
		}
		title, lines := n.lines(notice, mention)
		return jsonMessage(map[string]any{"msgtype": "markdown", "markdown": map[string]any{"title": title, "text": strings.Join(lines, "\n\n")}, "at": at})
	case Lark:
		if larkOpenID.MatchString(owner) {
			mention = `<at user_id="` + owner + `">` + owner + `</at>`
		}
		_, lines := n.lines(notice, mention)
		return jsonMessage(map[string]any{"msg_type": "text", "content": map[string]any{"text": strings.Join(lines, "\n")}})
	case Slack:
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
	esc := n.escape
	if n.cfg.Kind == DingTalk {
		esc = func(v string) string { return dingTalkTextEscaper.Replace(plain(v)) }
	}
	text := fmt.Sprintf("ecs-reaper run %s%s: %d released, %d stopped, %d notified, %d failed", esc(s.RunID), dry, s.Released, s.Stopped, s.Notified, s.Failed)
	if s.CapTripped {
		text += "; a release cap was exceeded: nothing was released"
	}
	if s.Error != "" {
		// The error names owners, IDs and channel answers: text from outside.
		text += ". Error: " + esc(s.Error)
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
