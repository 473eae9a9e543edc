"""Miconi's reward-modulated recurrent network: seconds per trial.

The model of Miconi (2017), "Biologically plausible learning in recurrent neural
networks reproduces neural dynamics observed during cognitive tasks", eLife 6:e20899,
written here from the paper: 200 rate neurons ``x' = (I - x + noise)/tau``,
``r = tanh(x)`` (three of them held at a constant output as biases), fully
connected without self-connections (39 800 plastic synapses), two inputs, and a
per-synapse eligibility trace ``e += (r_pre(t-1) * (x_post - <x_post>))**3`` that
turns into a weight change ``eta * e * |R_mean| * (R - R_mean)`` (clipped) when
the reward R arrives at the end of a task.  A trial is the four tasks of the
delayed non-match-to-sample problem (AA, AB, BA, BB), each 1000 steps of 1 ms
(cue, delay, cue, delay, response) followed by one learning step.

Also timed in the same process: the same trial written by hand in NumPy, and a
calibration workload (a 2000 x 2000 float64 matrix-vector product, 1000 times).
ANNarchy 4.8 (C++, 1 thread) was measured at 0.073 s per trial next to 0.73 s for
that calibration on this project's machines, so ``annarchy_equivalent_s`` (the
calibration time / 10) is ANNarchy's figure transposed to this machine.
"""

from __future__ import annotations

import numpy as np

from _harness import best_time, parser, report

N = 200
TAU = 30.0  # ms
ALPHA_X = 0.05  # sliding mean of x
RATE_HZ = 3.0  # perturbations per neuron and second
AMPLITUDE = 16.0  # perturbation amplitude
G = 1.5  # recurrent coupling strength
ETA = 0.5
MAX_DW = 3e-4
ALPHA_R = 0.75  # running mean of the reward, per task
OUTPUT = 100  # the neuron read out as the network's answer
BIASES = {0: 1.0, 1: 1.0, 2: -1.0}
# (first cue, second cue, target): non-matching cues ask for +0.98
TASKS = ((0, 0, -0.98), (0, 1, 0.98), (1, 0, 0.98), (1, 1, -0.98))

NEURON_PARAMETERS = f"""
tau = {TAU} : population
alpha = {ALPHA_X} : population
rate = {RATE_HZ} : population
amplitude = {AMPLITUDE} : population
bias = 0.0
"""
NEURON_EQUATIONS = """
kick = ite(Uniform(0.0, 1.0) < rate * dt / 1000.0, amplitude * Uniform(-1.0, 1.0), 0.0)
x += dt * (sum(inp) + sum(exc) - x + kick) / tau
rprev = r
r = ite(bias == 0.0, tanh(x), tanh(bias))
delta_x = x - x_mean
x_mean = alpha * x_mean + (1.0 - alpha) * x
"""
SYNAPSE_PARAMETERS = f"""
eta = {ETA} : projection
max_dw = {MAX_DW} : projection
learning_phase = 0.0 : projection
reward = 0.0 : projection
mean_reward = 0.0 : projection
"""
SYNAPSE_EQUATIONS = """
trace += ite(learning_phase > 0.5, 0.0, power(pre.rprev * post.delta_x, 3))
delta_w = clip(ite(learning_phase > 0.5, eta * trace * fabs(mean_reward) * (reward - mean_reward), 0.0), -max_dw, max_dw)
w += delta_w
"""


class RatenetModel:
    def __init__(self, phases: tuple[int, ...], seed: int = 0) -> None:
        from ratenet import Network, Neuron, Normal, Synapse, Uniform

        self.phases = phases
        self.rng = np.random.default_rng(seed)
        net = self.net = Network(seed=seed)
        self.inp = net.create(2, Neuron(parameters="r = 0.0"))
        self.pop = net.create(N, Neuron(parameters=NEURON_PARAMETERS, equations=NEURON_EQUATIONS))
        for rank, value in BIASES.items():
            self.pop[rank].bias = value
        net.connect(self.inp, self.pop, "inp").connect_all_to_all(Uniform(-1.0, 1.0))
        rule = Synapse(parameters=SYNAPSE_PARAMETERS, equations=SYNAPSE_EQUATIONS)
        self.rec = net.connect(self.pop, self.pop, "exc", rule).connect_all_to_all(Normal(0.0, G / np.sqrt(N)))
        self.monitor = net.monitor(self.pop, "r", start=False)
        self.mean_reward = np.zeros(len(TASKS))
        self.bias_ranks = list(BIASES)
        self.bias_rates = np.tanh(list(BIASES.values()))
        net.compile()

    def task(self, k: int) -> float:
        first, second, target = TASKS[k]
        cue, delay, cue2, delay2, response = self.phases
        pop, inp, net = self.pop, self.inp, self.net
        x0 = self.rng.uniform(-0.1, 0.1, N)
        pop.x = x0
        rates = np.tanh(x0)
        rates[self.bias_ranks] = self.bias_rates
        pop.r = rates
        inp[first].r = 1.0
        net.simulate(float(cue))
        inp.r = 0.0
        net.simulate(float(delay))
        inp[second].r = 1.0
        net.simulate(float(cue2))
        inp.r = 0.0
        net.simulate(float(delay2))
        self.monitor.resume()
        net.simulate(float(response))
        self.monitor.pause()
        output = self.monitor.get("r")[:, OUTPUT]
        reward = -float(np.mean(np.abs(target - output)))
        self.rec.learning_phase = 1.0
        self.rec.reward = reward
        self.rec.mean_reward = self.mean_reward[k]
        net.step()
        self.rec.learning_phase = 0.0
        self.rec.trace = 0.0
        self.mean_reward[k] = ALPHA_R * self.mean_reward[k] + (1 - ALPHA_R) * reward
        return reward

    def trial(self) -> None:
        for k in range(len(TASKS)):
            self.task(k)


class HandwrittenModel:
    """The same network in plain NumPy: preallocated arrays, one function call per step."""

    def __init__(self, phases: tuple[int, ...], seed: int = 0) -> None:
        self.phases = phases
        rng = self.rng = np.random.default_rng(seed)
        self.w_in = rng.uniform(-1.0, 1.0, (N, 2))
        self.w = rng.normal(0.0, G / np.sqrt(N), (N, N))
        np.fill_diagonal(self.w, 0.0)
        self.trace = np.zeros((N, N))
        self.product = np.empty((N, N))
        self.dw = np.empty((N, N))
        self.off_diagonal = ~np.eye(N, dtype=bool)
        self.inp = np.zeros(2)
        self.x = np.zeros(N)
        self.r = np.zeros(N)
        self.rprev = np.zeros(N)
        self.x_mean = np.zeros(N)
        self.delta_x = np.zeros(N)
        self.total = np.empty(N)
        self.drive = np.empty(N)
        self.kick = np.empty(N)
        self.bias = np.zeros(N)
        for rank, value in BIASES.items():
            self.bias[rank] = value
        self.fixed = self.bias != 0.0
        self.fixed_rates = np.tanh(self.bias[self.fixed])
        self.mean_reward = np.zeros(len(TASKS))

    def step(self, learn: bool = False) -> None:
        np.dot(self.w_in, self.inp, out=self.total)
        np.dot(self.w, self.r, out=self.drive)
        self.total += self.drive
        draw = self.rng.random(N)
        amplitude = self.rng.uniform(-1.0, 1.0, N)
        np.multiply(amplitude, AMPLITUDE, out=self.kick)
        self.kick[draw >= RATE_HZ / 1000.0] = 0.0
        self.total += self.kick
        self.total -= self.x
        self.total *= 1.0 / TAU
        self.x += self.total
        self.rprev[...] = self.r
        np.tanh(self.x, out=self.r)
        self.r[self.fixed] = self.fixed_rates
        np.subtract(self.x, self.x_mean, out=self.delta_x)
        self.x_mean *= ALPHA_X
        self.x_mean += (1.0 - ALPHA_X) * self.x
        if learn:
            np.clip(self.trace * self.factor, -MAX_DW, MAX_DW, out=self.dw)
            self.dw *= self.off_diagonal
            self.w += self.dw
        else:
            np.multiply.outer(self.delta_x, self.rprev, out=self.product)
            np.multiply(self.product, self.product, out=self.dw)
            self.dw *= self.product
            self.trace += self.dw

    def task(self, k: int) -> float:
        first, second, target = TASKS[k]
        cue, delay, cue2, delay2, response = self.phases
        self.x[...] = self.rng.uniform(-0.1, 0.1, N)
        np.tanh(self.x, out=self.r)
        self.r[self.fixed] = self.fixed_rates
        self.inp[first] = 1.0
        for _ in range(cue):
            self.step()
        self.inp[:] = 0.0
        for _ in range(delay):
            self.step()
        self.inp[second] = 1.0
        for _ in range(cue2):
            self.step()
        self.inp[:] = 0.0
        for _ in range(delay2):
            self.step()
        output = np.empty(response)
        for i in range(response):
            self.step()
            output[i] = self.r[OUTPUT]
        reward = -float(np.mean(np.abs(target - output)))
        mean = self.mean_reward[k]
        self.factor = ETA * abs(mean) * (reward - mean)
        self.step(learn=True)
        self.trace[...] = 0.0
        self.mean_reward[k] = ALPHA_R * mean + (1 - ALPHA_R) * reward
        return reward

    def trial(self) -> None:
        for k in range(len(TASKS)):
            self.task(k)


def calibration(repeats: int, count: int = 1000) -> float:
    """Seconds for ``count`` products of a 2000 x 2000 float64 matrix with a vector."""
    rng = np.random.default_rng(0)
    matrix = rng.random((2000, 2000))
    vector = rng.random(2000)
    out = np.empty(2000)

    def run() -> None:
        for _ in range(count):
            np.dot(matrix, vector, out=out)

    run()
    return best_time(run, repeats)


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=2, help="timed trials; the best is reported")
    args = p.parse_args()
    phases = (10, 10, 10, 10, 10) if args.quick else (200, 200, 200, 200, 200)
    trials = 1 if args.quick else args.trials

    model = RatenetModel(phases)
    model.task(0)  # warm-up: builds the plan
    per_trial = best_time(model.trial, trials)

    by_hand = HandwrittenModel(phases)
    by_hand.task(0)
    by_hand_trial = best_time(by_hand.trial, trials)

    # Quick runs time 100 products and scale the figure to 1000.
    calib = calibration(1, 100) * 10 if args.quick else calibration(args.repeats)
    annarchy = calib * 0.073 / 0.73
    report("miconi", {"s_per_trial": per_trial, "handwritten_s_per_trial": by_hand_trial,
                      "calibration_s": calib, "annarchy_equivalent_s": annarchy,
                      "steps_per_trial": 4 * (sum(phases) + 1)}, args,
           f"{per_trial:.3f} s per trial (hand-written NumPy {by_hand_trial:.3f}; calibration {calib:.3f} s, "
           f"so ANNarchy's 0.073 s/trial is {annarchy:.3f} s here)")


if __name__ == "__main__":
    main()
