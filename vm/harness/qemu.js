// QEMU command line for a Porthole test VM (TCG microvm; see shared notes for why).
export function qemuArgs({ image, dir, memory, cmdline }) {
  return [
    '-M', 'microvm', '-accel', 'tcg', '-cpu', 'max', '-smp', '1', '-m', memory,
    '-nographic', '-nic', 'none', '-no-reboot', '-pidfile', `${dir}/qemu.pid`,
    '-kernel', image.kernel, '-initrd', image.initrd,
    // microvm has no HPET/PM timer: without tsc_early_khz the guest can hang calibrating,
    // and without tsc=reliable a boot can fall back to jiffies (4 ms clock resolution).
    '-append', `console=ttyS0 quiet panic=-1 rdinit=/init tsc_early_khz=${image.tscKhz} tsc=reliable ${cmdline}`,
    '-drive', `file=${image.rootfs},format=raw,if=none,id=d0,readonly=on`,
    '-device', 'virtio-blk-device,drive=d0',
    '-device', 'virtio-serial-device',
    '-chardev', `socket,path=${dir}/ch.sock,server=on,wait=off,id=c0`,
    '-device', 'virtserialport,chardev=c0,name=porthole',
  ];
}
