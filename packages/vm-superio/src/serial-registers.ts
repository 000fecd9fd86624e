/**
 * 16550A register offsets and bits, spelled as in <linux/serial_reg.h>.
 */

/** Receive buffer (read, DLAB=0). */
export const UART_RX = 0;
/** Transmit holding register (write, DLAB=0). */
export const UART_TX = 0;
/** Divisor latch, low byte (DLAB=1). */
export const UART_DLL = 0;
/** Interrupt enable register (DLAB=0). */
export const UART_IER = 1;
/** Divisor latch, high byte (DLAB=1). */
export const UART_DLM = 1;
/** Interrupt identification register (read). */
export const UART_IIR = 2;
/** FIFO control register (write). */
export const UART_FCR = 2;
/** Line control register. */
export const UART_LCR = 3;
/** Modem control register. */
export const UART_MCR = 4;
/** Line status register (read). */
export const UART_LSR = 5;
/** Modem status register (read). */
export const UART_MSR = 6;
/** Scratch register. */
export const UART_SCR = 7;

/** IER: received data available. */
export const UART_IER_RDI = 0x01;
/** IER: transmitter holding register empty. */
export const UART_IER_THRI = 0x02;
/** IER: receiver line status. */
export const UART_IER_RLSI = 0x04;
/** IER: modem status. */
export const UART_IER_MSI = 0x08;

/** IIR: no interrupt pending. */
export const UART_IIR_NO_INT = 0x01;
/** IIR: mask of the interrupt id. */
export const UART_IIR_ID = 0x0e;
/** IIR id: modem status (lowest priority). */
export const UART_IIR_MSI = 0x00;
/** IIR id: transmitter holding register empty. */
export const UART_IIR_THRI = 0x02;
/** IIR id: received data reached the trigger level. */
export const UART_IIR_RDI = 0x04;
/** IIR id: receiver line status (highest priority). */
export const UART_IIR_RLSI = 0x06;
/** IIR id: character timeout (data below the trigger level). */
export const UART_IIR_RX_TIMEOUT = 0x0c;
/** IIR: both bits set while the FIFOs are enabled. */
export const UART_IIR_FIFO_ENABLED = 0xc0;

/** FCR: enable the FIFOs. */
export const UART_FCR_ENABLE_FIFO = 0x01;
/** FCR: clear the receive FIFO. */
export const UART_FCR_CLEAR_RCVR = 0x02;
/** FCR: clear the transmit FIFO. */
export const UART_FCR_CLEAR_XMIT = 0x04;
/** FCR: DMA mode select. */
export const UART_FCR_DMA_SELECT = 0x08;
/** FCR: mask of the receive trigger level (1, 4, 8 or 14 bytes). */
export const UART_FCR_TRIGGER_MASK = 0xc0;

/** LCR: divisor latch access bit. */
export const UART_LCR_DLAB = 0x80;

/** MCR: data terminal ready. */
export const UART_MCR_DTR = 0x01;
/** MCR: request to send. */
export const UART_MCR_RTS = 0x02;
/** MCR: OUT1. */
export const UART_MCR_OUT1 = 0x04;
/** MCR: OUT2 (gates the IRQ on PCs). */
export const UART_MCR_OUT2 = 0x08;
/** MCR: loopback mode. */
export const UART_MCR_LOOP = 0x10;

/** LSR: data ready. */
export const UART_LSR_DR = 0x01;
/** LSR: overrun error. */
export const UART_LSR_OE = 0x02;
/** LSR: parity error. */
export const UART_LSR_PE = 0x04;
/** LSR: framing error. */
export const UART_LSR_FE = 0x08;
/** LSR: break interrupt. */
export const UART_LSR_BI = 0x10;
/** LSR: transmit holding register empty. */
export const UART_LSR_THRE = 0x20;
/** LSR: transmitter empty. */
export const UART_LSR_TEMT = 0x40;
/** LSR: error in the receive FIFO. */
export const UART_LSR_FIFOE = 0x80;
/** LSR: the bits that raise a receiver line status interrupt. */
export const UART_LSR_BRK_ERROR_BITS = UART_LSR_BI | UART_LSR_FE | UART_LSR_PE | UART_LSR_OE;

/** MSR: delta CTS. */
export const UART_MSR_DCTS = 0x01;
/** MSR: delta DSR. */
export const UART_MSR_DDSR = 0x02;
/** MSR: trailing edge of RI. */
export const UART_MSR_TERI = 0x04;
/** MSR: delta DCD. */
export const UART_MSR_DDCD = 0x08;
/** MSR: clear to send. */
export const UART_MSR_CTS = 0x10;
/** MSR: data set ready. */
export const UART_MSR_DSR = 0x20;
/** MSR: ring indicator. */
export const UART_MSR_RI = 0x40;
/** MSR: data carrier detect. */
export const UART_MSR_DCD = 0x80;
/** MSR: any of the delta bits. */
export const UART_MSR_ANY_DELTA = 0x0f;
