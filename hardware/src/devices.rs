//! `comptoir devices`: the serial ports (and USB printers) of this machine, from sysfs,
//! without opening any of them.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// What a device probably is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Scale,
    Printer,
    Scanner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Scale => "scale",
            Role::Printer => "printer",
            Role::Scanner => "scanner",
        }
    }
}

/// One port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `/dev/ttyUSB0`, `/dev/usb/lp0`...
    pub path: PathBuf,
    /// USB vendor and product ids.
    pub usb_id: Option<(u16, u16)>,
    /// The USB product string.
    pub product: Option<String>,
    /// A guess from the udev names (`/dev/comptoir-scale`...), the USB class, ids and
    /// product string.
    pub role: Option<Role>,
}

impl fmt::Display for DeviceInfo {
    /// `PATH  VID:PID  PRODUCT  ROLE`, `-` where unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self
            .usb_id
            .map_or("-".to_string(), |(v, p)| format!("{v:04x}:{p:04x}"));
        let product = self
            .product
            .as_deref()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .unwrap_or("-");
        let role = self.role.map_or("-", Role::as_str);
        write!(f, "{}  {id}  {product}  {role}", self.path.display())
    }
}

/// Lists the machine's serial ports and USB printers from `/sys`, reading attributes only:
/// no port is opened, nothing is written. Sorted by path.
pub fn list_devices() -> Vec<DeviceInfo> {
    list_devices_in(Path::new("/sys"), Path::new("/dev"))
}

/// [`list_devices`] over another sysfs and /dev root (tests).
pub fn list_devices_in(sys: &Path, dev: &Path) -> Vec<DeviceInfo> {
    let mut out = Vec::new();
    for (class, dev_dir) in [
        ("class/tty", dev.to_path_buf()),
        ("class/usbmisc", dev.join("usb")),
    ] {
        let Ok(entries) = fs::read_dir(sys.join(class)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let entry = e.path();
            let is_printer = class.ends_with("usbmisc");
            if is_printer && !name.starts_with("lp") {
                continue;
            }
            // Only ports backed by a device (no virtual consoles or ptys).
            let Ok(device) = fs::canonicalize(entry.join("device")) else {
                continue;
            };
            if name.starts_with("ttyS") {
                // Legacy UARTs are listed whether present or not; type 0 means absent.
                let t = read_attr(&entry.join("type"));
                if t.as_deref().is_none_or(|t| t == "0") {
                    continue;
                }
            }
            let usb = usb_parent(&device);
            let usb_id = usb.as_ref().and_then(|u| {
                let v = u16::from_str_radix(&read_attr(&u.join("idVendor"))?, 16).ok()?;
                let p = u16::from_str_radix(&read_attr(&u.join("idProduct"))?, 16).ok()?;
                Some((v, p))
            });
            let product = usb.as_ref().and_then(|u| read_attr(&u.join("product")));
            let path = dev_dir.join(&name);
            let role = role_from_udev_name(dev, &path)
                .or(if is_printer {
                    Some(Role::Printer)
                } else {
                    None
                })
                .or_else(|| guess_role(usb_id, product.as_deref()));
            out.push(DeviceInfo {
                path,
                usb_id,
                product,
                role,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn read_attr(p: &Path) -> Option<String> {
    fs::read_to_string(p).ok().map(|s| s.trim().to_string())
}

/// The USB device directory above an interface (the first parent with `idVendor`).
fn usb_parent(device: &Path) -> Option<PathBuf> {
    let mut d = Some(device);
    while let Some(dir) = d {
        if dir.join("idVendor").is_file() {
            return Some(dir.to_path_buf());
        }
        d = dir.parent();
    }
    None
}

/// The stable names of `pi/99-comptoir.rules` (`/dev/comptoir-scale`...) that point here.
fn role_from_udev_name(dev: &Path, path: &Path) -> Option<Role> {
    for (link, role) in [
        ("comptoir-scale", Role::Scale),
        ("comptoir-printer", Role::Printer),
        ("comptoir-scanner", Role::Scanner),
    ] {
        if let Ok(target) = fs::read_link(dev.join(link)) {
            let target = if target.is_relative() {
                dev.join(target)
            } else {
                target
            };
            if target == path {
                return Some(role);
            }
        }
    }
    None
}

/// A guess from well-known vendors and product strings; `None` for generic USB-serial
/// adapters (FTDI, Prolific, CH340), which could be anything.
pub fn guess_role(usb_id: Option<(u16, u16)>, product: Option<&str>) -> Option<Role> {
    let p = product.unwrap_or("").to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| p.contains(w));
    if has(&["scale", "balance", "waage", "toledo", "adam"]) {
        return Some(Role::Scale);
    }
    if has(&["printer", "receipt", "pos58", "pos80", "tm-t", "thermal"]) {
        return Some(Role::Printer);
    }
    if has(&["scanner", "barcode", "bar code", "qr", "imager"]) {
        return Some(Role::Scanner);
    }
    match usb_id?.0 {
        0x0eb8 => Some(Role::Scale), // Mettler-Toledo
        0x04b8 | 0x0519 | 0x0fe6 | 0x0dd4 | 0x154f => Some(Role::Printer), // Epson, Star, ICS/Xprinter, Custom, SNBC
        0x0c2e | 0x05e0 | 0x1eab | 0x05f9 | 0x2dd6 | 0x0536 => Some(Role::Scanner), // Honeywell, Zebra, Newland, Datalogic, Netum, Hand Held
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn lists_ports_from_a_fake_sysfs() {
        let root = tempfile::tempdir().unwrap();
        let sys = root.path().join("sys");
        let dev = root.path().join("dev");
        let usb = sys.join("devices/pci0/usb1/1-1");
        let iface = usb.join("1-1:1.0/ttyUSB0");
        fs::create_dir_all(&iface).unwrap();
        fs::write(usb.join("idVendor"), "0403\n").unwrap();
        fs::write(usb.join("idProduct"), "6001\n").unwrap();
        fs::write(usb.join("product"), "FT232R USB UART\n").unwrap();
        let scanner = sys.join("devices/pci0/usb1/1-2");
        let s_iface = scanner.join("1-2:1.0/tty/ttyACM0");
        fs::create_dir_all(&s_iface).unwrap();
        fs::write(scanner.join("idVendor"), "0c2e\n").unwrap();
        fs::write(scanner.join("idProduct"), "0b61\n").unwrap();
        let lp = sys.join("devices/pci0/usb1/1-3");
        fs::create_dir_all(lp.join("1-3:1.0/usbmisc/lp0")).unwrap();
        fs::write(lp.join("idVendor"), "0fe6\n").unwrap();
        fs::write(lp.join("idProduct"), "811e\n").unwrap();
        fs::write(lp.join("product"), "Printer POS-80\n").unwrap();
        let uart = sys.join("devices/platform/serial8250/tty/ttyS0");
        fs::create_dir_all(&uart).unwrap();
        for (class, name, target) in [
            ("class/tty", "ttyUSB0", iface.clone()),
            ("class/tty", "ttyACM0", s_iface.clone()),
            ("class/usbmisc", "lp0", lp.join("1-3:1.0/usbmisc/lp0")),
            ("class/tty", "ttyS0", uart.clone()),
        ] {
            let entry = sys.join(class).join(name);
            fs::create_dir_all(&entry).unwrap();
            symlink(&target, entry.join("device")).unwrap();
        }
        fs::write(sys.join("class/tty/ttyS0/type"), "0\n").unwrap();
        // A virtual console: no device link.
        fs::create_dir_all(sys.join("class/tty/tty1")).unwrap();
        fs::create_dir_all(&dev).unwrap();
        symlink("ttyUSB0", dev.join("comptoir-scale")).unwrap();

        let lines: Vec<String> = list_devices_in(&sys, &dev)
            .iter()
            .map(|d| d.to_string().replace(&dev.display().to_string(), "/dev"))
            .collect();
        assert_eq!(
            lines,
            [
                "/dev/ttyACM0  0c2e:0b61  -  scanner",
                "/dev/ttyUSB0  0403:6001  FT232R USB UART  scale",
                "/dev/usb/lp0  0fe6:811e  Printer POS-80  printer",
            ]
        );
    }

    #[test]
    fn generic_adapters_have_no_role() {
        assert_eq!(
            guess_role(Some((0x0403, 0x6001)), Some("FT232R USB UART")),
            None
        );
        assert_eq!(guess_role(None, None), None);
        assert_eq!(
            guess_role(Some((0x1a86, 0x7523)), Some("USB Scale")),
            Some(Role::Scale)
        );
    }

    #[test]
    fn the_real_sysfs_can_be_listed() {
        // Whatever this machine has; it must not panic nor open anything.
        for d in list_devices() {
            assert!(!d.to_string().is_empty());
        }
    }
}
