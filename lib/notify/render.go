package notify

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
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
	// The nouns of what the notice holds, in order of first mention.
	var nouns []string
	for _, it := range notice.Items {
		noun := "instance(s)"
		if it.Noun != "" {
			noun = esc(it.Noun) + "(s)"
		}
		if !slices.Contains(nouns, noun) {
			nouns = append(nouns, noun)
		}
	}
	noun := "instance(s)"
	if len(nouns) > 0 {
		noun = either(nouns)
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
		what := ""
		if it.Noun != "" {
			what = esc(it.Noun) + " "
		}
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

// escape is the channel's escaper of tag-derived text. A tag value is free
// text anyone who may tag a resource wrote; in the chat it must stay text:
// no mention, link, image or markup of its own. Control characters go
// first on every channel that renders text (a line break would start a
// heading, list or quote of the value's own).
func (n *Notifier) escape(v string) string {
	if n.ch.escape == nil {
		return v
	}
	return n.ch.escape(plain(v))
}

// renderNotice builds the channel's message for a notice. A mention is
// built only from an owner that is exactly one user's ID in the platform's
// form: never from other text.
func (n *Notifier) renderNotice(notice Notice) message {
	title, lines := n.lines(notice, n.mentionOf(notice.Owner))
	return jsonMessage(n.ch.notice(notice, title, lines))
}

// mentionOf renders an owner as the channel's mention, or escaped text.
func (n *Notifier) mentionOf(owner string) string {
	if n.ch.mention != nil {
		if m, ok := n.ch.mention(owner); ok {
			return m
		}
	}
	return n.escape(owner)
}

// renderSummary builds the channel's message for a run's summary.
func (n *Notifier) renderSummary(s Summary) message {
	dry := ""
	if s.DryRun {
		dry = " (dry run)"
	}
	esc := n.escape
	if n.ch.summaryEscape != nil {
		esc = func(v string) string { return n.ch.summaryEscape(plain(v)) }
	}
	text := fmt.Sprintf("ecs-reaper run %s%s: %d released, %d stopped, %d notified, %d failed", esc(s.RunID), dry, s.Released, s.Stopped, s.Notified, s.Failed)
	if s.CapTripped {
		text += "; a release cap was exceeded: nothing was released"
	}
	if s.Error != "" {
		// The error names owners, IDs and channel answers: text from outside.
		text += ". Error: " + esc(s.Error)
	}
	return jsonMessage(n.ch.summary(s, text))
}

func jsonMessage(content map[string]any) message {
	b, _ := json.Marshal(content) // maps of strings, slices and times always marshal
	return message{body: b, content: content}
}
