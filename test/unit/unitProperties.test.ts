// Parsing of `systemctl show` output, on text captured from systemd 252 on the test node.
import * as assert from 'assert';
import { parseEnvironmentFiles, parseExecRecords, parseShowOutput } from '../../src/systemd/unitProperties';
import { checkUnitName } from '../../src/systemd/unitStatus';

const SHOW = [
  'Id=kubelet.service',
  'LoadState=loaded',
  'ActiveState=active',
  'SubState=running',
  'MainPID=412',
  'FragmentPath=/lib/systemd/system/kubelet.service',
  'DropInPaths=/etc/systemd/system/kubelet.service.d/10-kubeadm.conf /run/systemd/system/kubelet.service.d/99-debug.conf',
  'EnvironmentFiles=/var/lib/kubelet/kubeadm-flags.env (ignore_errors=yes)',
  'EnvironmentFiles=/etc/default/kubelet (ignore_errors=no)',
  'ExecStart={ path=/usr/bin/kubelet ; argv[]=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS ; ignore_errors=no ; start_time=[Fri 2026-11-27 03:20:00 UTC] ; stop_time=[n/a] ; pid=412 ; code=(null) ; status=0/0 }',
  '',
].join('\n');

describe('systemctl show parsing', () => {
  it('reads single and repeated properties', () => {
    const props = parseShowOutput(SHOW);
    assert.strictEqual(props.get('MainPID')?.[0], '412');
    assert.deepStrictEqual(parseEnvironmentFiles(props.get('EnvironmentFiles')!), [
      { path: '/var/lib/kubelet/kubeadm-flags.env', optional: true },
      { path: '/etc/default/kubelet', optional: false },
    ]);
  });

  it('splits ExecStart records', () => {
    const records = parseExecRecords(parseShowOutput(SHOW).get('ExecStart')![0]);
    assert.deepStrictEqual(records, [
      { path: '/usr/bin/kubelet', argvText: '/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS', ignoreErrors: false },
    ]);
    assert.deepStrictEqual(parseExecRecords(''), []);
  });

  it('accepts real unit names and refuses hostile ones', () => {
    for (const good of ['kubelet.service', 'containerd.service', 'getty@tty1.service', 'dev-disk-by\\x2duuid.swap']) {
      assert.strictEqual(checkUnitName(good), good);
    }
    for (const bad of [
      'kubelet',
      'kubelet.service; reboot',
      '$(id).service',
      '-kubelet.service',
      'a b.service',
      'k\n.service',
      '../x.service',
    ]) {
      assert.throws(() => checkUnitName(bad), /not a valid systemd unit name/, bad);
    }
  });
});
