(module
  ;; The tfjs wasm backend's memory: pointers below are byte offsets into its heap.
  (import "env" "memory" (memory 1))
  ;; Depthwise filter gradient, channel multiplier 1, no dilation (NHWC, float32):
  ;;   acc[(i*fw + j)*C + c] += x[((n*H + y)*W + xx)*C + c] * dy[((n*Ho + oy)*Wo + ox)*C + c]
  ;;   with y = oy*sh + i - pt, xx = ox*sw + j - pl inside the input. acc must be zeroed by the caller.
  (func (export "dwFilterGrad")
    (param $x i32) (param $dy i32) (param $acc i32)
    (param $N i32) (param $H i32) (param $W i32) (param $C i32)
    (param $Ho i32) (param $Wo i32) (param $fh i32) (param $fw i32)
    (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (local $n i32) (local $oy i32) (local $ox i32) (local $i i32) (local $j i32)
    (local $y i32) (local $xx i32) (local $k i32) (local $C4 i32) (local $bytes i32)
    (local $pg i32) (local $px i32) (local $pa i32) (local $rowX i32)
    (local.set $C4 (i32.and (local.get $C) (i32.const -4)))
    (local.set $bytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $pg (local.get $dy))
    (local.set $n (i32.const 0))
    (block $nEnd (loop $nLoop
      (br_if $nEnd (i32.ge_s (local.get $n) (local.get $N)))
      (local.set $oy (i32.const 0))
      (block $oyEnd (loop $oyLoop
        (br_if $oyEnd (i32.ge_s (local.get $oy) (local.get $Ho)))
        (local.set $ox (i32.const 0))
        (block $oxEnd (loop $oxLoop
          (br_if $oxEnd (i32.ge_s (local.get $ox) (local.get $Wo)))
          (local.set $i (i32.const 0))
          (block $iEnd (loop $iLoop
            (br_if $iEnd (i32.ge_s (local.get $i) (local.get $fh)))
            (local.set $y (i32.sub (i32.add (i32.mul (local.get $oy) (local.get $sh)) (local.get $i)) (local.get $pt)))
            (if (i32.and (i32.ge_s (local.get $y) (i32.const 0)) (i32.lt_s (local.get $y) (local.get $H)))
              (then
                ;; byte offset of x[n, y, 0, 0]
                (local.set $rowX (i32.add (local.get $x)
                  (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (local.get $y))
                           (i32.mul (local.get $W) (local.get $bytes)))))
                (local.set $j (i32.const 0))
                (block $jEnd (loop $jLoop
                  (br_if $jEnd (i32.ge_s (local.get $j) (local.get $fw)))
                  (local.set $xx (i32.sub (i32.add (i32.mul (local.get $ox) (local.get $sw)) (local.get $j)) (local.get $pl)))
                  (if (i32.and (i32.ge_s (local.get $xx) (i32.const 0)) (i32.lt_s (local.get $xx) (local.get $W)))
                    (then
                      (local.set $px (i32.add (local.get $rowX) (i32.mul (local.get $xx) (local.get $bytes))))
                      (local.set $pa (i32.add (local.get $acc)
                        (i32.mul (i32.add (i32.mul (local.get $i) (local.get $fw)) (local.get $j)) (local.get $bytes))))
                      (local.set $k (i32.const 0))
                      (block $cEnd (loop $cLoop
                        (br_if $cEnd (i32.ge_s (local.get $k) (local.get $C4)))
                        (v128.store (i32.add (local.get $pa) (i32.shl (local.get $k) (i32.const 2)))
                          (f32x4.add
                            (v128.load (i32.add (local.get $pa) (i32.shl (local.get $k) (i32.const 2))))
                            (f32x4.mul
                              (v128.load (i32.add (local.get $px) (i32.shl (local.get $k) (i32.const 2))))
                              (v128.load (i32.add (local.get $pg) (i32.shl (local.get $k) (i32.const 2)))))))
                        (local.set $k (i32.add (local.get $k) (i32.const 4)))
                        (br $cLoop)))
                      (block $tEnd (loop $tLoop
                        (br_if $tEnd (i32.ge_s (local.get $k) (local.get $C)))
                        (f32.store (i32.add (local.get $pa) (i32.shl (local.get $k) (i32.const 2)))
                          (f32.add
                            (f32.load (i32.add (local.get $pa) (i32.shl (local.get $k) (i32.const 2))))
                            (f32.mul
                              (f32.load (i32.add (local.get $px) (i32.shl (local.get $k) (i32.const 2))))
                              (f32.load (i32.add (local.get $pg) (i32.shl (local.get $k) (i32.const 2)))))))
                        (local.set $k (i32.add (local.get $k) (i32.const 1)))
                        (br $tLoop)))))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br $jLoop)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $iLoop)))
          (local.set $pg (i32.add (local.get $pg) (local.get $bytes)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $oxLoop)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $oyLoop)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nLoop)))))
