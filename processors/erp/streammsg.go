package erp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
)

// errNoStreamMsg: the stream holds no message at that sequence.
var errNoStreamMsg = errors.New("no message at that sequence")

// getStreamMsg reads one stream message by sequence with the bare
// $JS.API.STREAM.MSG.GET request: it needs only that permission (no
// stream info), which is all the erp user is granted on MARIA_IN.
func getStreamMsg(ctx context.Context, nc *nats.Conn, stream string, seq uint64) (string, []byte, error) {
	req, _ := json.Marshal(map[string]uint64{"seq": seq})
	rep, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+stream, req)
	if err != nil {
		return "", nil, fmt.Errorf("get %s/%d: %w", stream, seq, err)
	}
	var r struct {
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
		Message *struct {
			Subject string `json:"subject"`
			Seq     uint64 `json:"seq"`
			Data    []byte `json:"data"`
		} `json:"message"`
	}
	if err := json.Unmarshal(rep.Data, &r); err != nil {
		return "", nil, fmt.Errorf("get %s/%d: %w", stream, seq, err)
	}
	if r.Error != nil {
		if r.Error.Code == 404 {
			return "", nil, errNoStreamMsg
		}
		return "", nil, fmt.Errorf("get %s/%d: %s (%d)", stream, seq, r.Error.Description, r.Error.ErrCode)
	}
	if r.Message == nil || r.Message.Seq != seq {
		return "", nil, errNoStreamMsg
	}
	return r.Message.Subject, r.Message.Data, nil
}
