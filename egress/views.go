package egress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/slack-go/slack"
)

// ViewsAPI is the part of slack-go egress uses for the App Home tab and
// modals. *slack.Client and DryRun implement it; an API without it makes
// view commands fail permanently with the reason.
type ViewsAPI interface {
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
}

var _ ViewsAPI = (*slack.Client)(nil)

var errNoViews = errors.New("the Slack client in use cannot publish views")

func (e *Egress) views() (ViewsAPI, error) {
	v, ok := e.api.(ViewsAPI)
	if !ok {
		return nil, bus.Permanent(errNoViews)
	}
	return v, nil
}

// viewAs decodes Block Kit view JSON into slack-go's request type; a view
// Slack could not accept either is a permanent failure.
func viewAs[T any](raw map[string]any) (T, error) {
	var v T
	b, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		return v, bus.Permanent(fmt.Errorf("view: %w", err))
	}
	return v, nil
}

// publishView replaces the user's Home tab (views.publish). Publishing the
// same view twice is harmless, so an uncertain attempt is simply redone.
func (e *Egress) publishView(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutViewPublish](m.Env)
	if err != nil {
		return err
	}
	if p.User == "" || len(p.View) == 0 {
		return bus.Permanent(errors.New("view publish needs a user and a view"))
	}
	view, err := viewAs[slack.HomeTabViewRequest](p.View)
	if err != nil {
		return err
	}
	api, err := e.views()
	if err != nil {
		return err
	}
	return e.once(ctx, m, effect{do: func(ctx context.Context) (*outcome, error) {
		return &outcome{Text: "home " + p.User}, call(ctx, "views.publish", m.Env.Channel, e.cfg.DryRun, func(ctx context.Context) error {
			_, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: p.User, View: view})
			return err
		})
	}})
}

// openView opens a modal (views.open). Its trigger id expires 3 seconds
// after the click, so the command is not worth retrying late: Slack's
// expired_trigger_id is permanent, and the user clicks again.
func (e *Egress) openView(ctx context.Context, m *bus.Msg) error {
	p, err := decode[schemas.OutViewOpen](m.Env)
	if err != nil {
		return err
	}
	if p.TriggerID == "" || len(p.View) == 0 {
		return bus.Permanent(errors.New("view open needs a trigger_id and a view"))
	}
	view, err := viewAs[slack.ModalViewRequest](p.View)
	if err != nil {
		return err
	}
	api, err := e.views()
	if err != nil {
		return err
	}
	return e.once(ctx, m, effect{do: func(ctx context.Context) (*outcome, error) {
		return &outcome{Text: "modal"}, call(ctx, "views.open", m.Env.Channel, e.cfg.DryRun, func(ctx context.Context) error {
			_, err := api.OpenViewContext(ctx, p.TriggerID, view)
			return err
		})
	}})
}

// PublishViewContext logs the Home tab publish.
func (d *DryRun) PublishViewContext(_ context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error) {
	d.emit("views.publish", req.UserID, map[string]string{"user": req.UserID, "blocks": fmt.Sprintf("%d blocks", len(req.View.Blocks.BlockSet))})
	return &slack.ViewResponse{}, nil
}

// OpenViewContext logs the modal.
func (d *DryRun) OpenViewContext(_ context.Context, _ string, view slack.ModalViewRequest) (*slack.ViewResponse, error) {
	title := ""
	if view.Title != nil {
		title = view.Title.Text
	}
	d.emit("views.open", "", map[string]string{"title": title})
	return &slack.ViewResponse{}, nil
}
